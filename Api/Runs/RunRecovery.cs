using Experiments.Api.Hosting;
using Experiments.Api.Persistence;
using Experiments.Domain.Runs;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Experiments.Api.Runs;

/// <summary>
/// Makes sure no run stays Running after its worker is gone. Hangfire's SQLite storage would hand a dead
/// worker's job out again only after its 30-minute invisibility timeout, so this service looks for running
/// runs whose lease expired and queues a delivery at once: the delivery resumes the run from its checkpoint.
/// A run whose user asked to cancel it while its worker died is marked cancelled instead.
/// </summary>
public sealed class RunRecovery(
    IDbContextFactory<ExperimentsDbContext> databases,
    IBackgroundJobClient jobs,
    IOptions<ExperimentsOptions> options,
    TimeProvider time,
    ILogger<RunRecovery> logger) : BackgroundService
{
    private readonly Dictionary<Guid, DateTimeOffset> _requeued = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var lease = options.Value.RunLeaseDuration;
        var period = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(500).Ticks, lease.Ticks / 2));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RecoverAsync(lease, stoppingToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                logger.LogError(exception, "Looking for runs whose worker died failed; trying again in {Period}.", period);
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

    public async Task RecoverAsync(TimeSpan lease, CancellationToken cancellationToken)
    {
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        var now = time.GetUtcNow();
        var orphans = await db.Runs
            .Where(run => run.Status == RunStatus.Running && (run.LeaseExpiresAt == null || run.LeaseExpiresAt < now))
            .ToListAsync(cancellationToken);
        foreach (var run in orphans)
        {
            if (run.CancelRequested)
            {
                run.ConfirmCancelled(now);
                await db.SaveChangesAsync(cancellationToken);
                continue;
            }
            if (_requeued.TryGetValue(run.Id, out var at) && now - at < lease)
            {
                continue;
            }
            _requeued[run.Id] = now;
            jobs.Enqueue<TrainRunJob>(TrainRunJob.Queue, job => job.ExecuteAsync(run.Id, CancellationToken.None));
            logger.LogWarning("Run {RunId}'s worker {Worker} stopped renewing its lease; queued a delivery to resume it.", run.Id, run.LeaseOwner);
        }
    }
}
