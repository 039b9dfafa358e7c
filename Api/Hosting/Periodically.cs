namespace Experiments.Api.Hosting;

/// <summary>The loop of the host's housekeeping services: do the work now, then once every period, until the host stops.</summary>
public static class Periodically
{
    /// <summary>
    /// Runs <paramref name="work"/> at once and then every <paramref name="period"/>; a failed pass is logged as
    /// <paramref name="what"/> and tried again at the next one.
    /// </summary>
    public static async Task RunAsync(Func<CancellationToken, Task> work, TimeSpan period, string what, TimeProvider time, ILogger logger, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await work(stoppingToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                logger.LogError(exception, "{What} failed; trying again in {Period}.", what, period);
            }
            try
            {
                await Task.Delay(period, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
