using Microsoft.Extensions.Logging;

namespace Experiments.Web.Live;

/// <summary>
/// Reads again what a page shows each time it has heard nothing new of it for an interval. A page that gets live
/// events reports each one (and each read of its own) with <see cref="Heard"/>, so it reads only while the events are
/// quiet: when the hub's backplane is lost, events of runs trained by other processes stop, and the page still shows
/// their progress from REST. A page without live events never calls <see cref="Heard"/> and reads once an interval.
/// </summary>
/// <remarks>
/// Used from the component's dispatcher, whose synchronization context the loop resumes on, so a read and the
/// component's event handlers never run at the same time. One read at a time: the next interval starts when a read ends.
/// </remarks>
public sealed class QuietRefresh(TimeSpan interval, TimeProvider time, ILogger logger)
{
    /// <summary>Several batch progress events a second arrive while a run trains; five quiet seconds mean they stopped.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(5);

    private long _lastHeard = time.GetTimestamp();

    /// <summary>The page just learned the state it shows: the next read waits an interval from now.</summary>
    public void Heard() => _lastHeard = time.GetTimestamp();

    /// <summary>
    /// Calls <paramref name="read"/> whenever an interval passed since the page last heard anything, for as long as
    /// <paramref name="wanted"/> holds and <paramref name="cancellationToken"/> is not cancelled. A read that fails is
    /// logged and tried again an interval later.
    /// </summary>
    public async Task RunAsync(Func<bool> wanted, Func<Task> read, CancellationToken cancellationToken)
    {
        try
        {
            while (wanted())
            {
                var wait = interval - time.GetElapsedTime(_lastHeard);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, time, cancellationToken);
                    continue;
                }
                try
                {
                    await read();
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    logger.LogWarning(exception, "The dashboard could not read what a page shows again; it tries again in {Interval}.", interval);
                }
                Heard();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The component is gone.
        }
    }
}
