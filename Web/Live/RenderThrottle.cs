namespace Experiments.Web.Live;

/// <summary>
/// Spaces out the renders that frequent live events ask for (batch progress, log lines): at most one per interval.
/// A request that comes sooner is drawn by one render at the end of the interval, together with every request made
/// meanwhile, so the latest state is always shown. Renders for other reasons (an epoch, a new status, a click) are
/// reported with <see cref="Rendered"/> and count as well.
/// </summary>
/// <remarks>
/// Used from the component's dispatcher, whose synchronization context the delayed render resumes on. Requests never
/// wait: an event handler that awaited the delay would hold up every later event of the hub connection.
/// </remarks>
public sealed class RenderThrottle(TimeSpan interval, TimeProvider time)
{
    /// <summary>At most four renders a second, the pace at which the server pushes batch progress.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(250);

    private long? _lastRender;

    /// <summary>The delayed render, while one is waiting; completed otherwise.</summary>
    public Task Pending { get; private set; } = Task.CompletedTask;

    /// <summary>
    /// Calls <paramref name="render"/> now when the last render is at least an interval ago, else once at the end of
    /// the interval unless a render is already waiting for it. Nothing is rendered once <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    public void Request(Action render, CancellationToken cancellationToken)
    {
        if (!Pending.IsCompleted)
        {
            return;
        }
        var wait = _lastRender is { } last ? interval - time.GetElapsedTime(last) : TimeSpan.Zero;
        if (wait <= TimeSpan.Zero)
        {
            Rendered();
            render();
            return;
        }
        Pending = RenderLaterAsync(wait, render, cancellationToken);
    }

    /// <summary>The component rendered: a throttled render waits an interval from now.</summary>
    public void Rendered() => _lastRender = time.GetTimestamp();

    private async Task RenderLaterAsync(TimeSpan wait, Action render, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(wait, time, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The component is gone.
            return;
        }
        Rendered();
        render();
    }
}
