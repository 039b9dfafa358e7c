using Experiments.Api.Hosting;
using Experiments.Api.Persistence;
using Experiments.Domain.Runs;
using Hangfire;
using Hangfire.Storage.Monitoring;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Experiments.Api.Runs;

/// <summary>
/// Makes sure no run stays Running after its worker is gone, and none stays Queued without a job to deliver it.
/// Hangfire's SQLite storage would hand a dead worker's job out again only after its 30-minute invisibility
/// timeout, so this service looks for running runs whose lease expired and queues a delivery at once: the
/// delivery resumes the run from its checkpoint. A run whose user asked to cancel it while its worker died is
/// marked cancelled instead. A run queued for longer than a lease whose job is gone (deleted in the job
/// dashboard, lost with Hangfire's storage) gets a new one. Both run at start-up and then every half lease.
/// </summary>
public sealed class RunRecovery(
    IDbContextFactory<ExperimentsDbContext> databases,
    IBackgroundJobClient jobs,
    JobStorage storage,
    IOptions<ExperimentsOptions> options,
    TimeProvider time,
    ILogger<RunRecovery> logger) : BackgroundService
{
    private readonly Dictionary<Guid, DateTimeOffset> _requeued = [];

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var lease = options.Value.RunLeaseDuration;
        var period = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(500).Ticks, lease.Ticks / 2));
        return Periodically.RunAsync(stopping => RecoverAsync(lease, stopping), period, "Looking for runs whose worker died or whose job is gone",
            time, logger, stoppingToken);
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
            TrainRunJob.Enqueue(jobs, run);
            logger.LogWarning("Run {RunId}'s worker {Worker} stopped renewing its lease; queued a delivery to resume it.", run.Id, run.LeaseOwner);
        }
        await RequeueUndeliveredAsync(db, now - lease, cancellationToken);
    }

    /// <summary>Queues a new job for each run queued before <paramref name="queuedBefore"/> that no job will deliver.</summary>
    private async Task RequeueUndeliveredAsync(ExperimentsDbContext db, DateTimeOffset queuedBefore, CancellationToken cancellationToken)
    {
        var waiting = await db.Runs.AsNoTracking().Where(run => run.Status == RunStatus.Queued && run.CreatedAt < queuedBefore)
            .OrderBy(run => run.CreatedAt).Take(MaxRequeuedPerPass).ToListAsync(cancellationToken);
        if (waiting.Count == 0)
        {
            return;
        }
        var delivered = RunsWithJobs();
        foreach (var run in waiting.Where(run => !delivered.Contains(run.Id)))
        {
            TrainRunJob.Enqueue(jobs, run);
            logger.LogWarning("Run {RunId} is queued but no job would deliver it (deleted in the job dashboard, or lost with the job storage); queued a new one.", run.Id);
        }
    }

    /// <summary>The runs that a job enqueued, fetched, processing or scheduled will deliver.</summary>
    private HashSet<Guid> RunsWithJobs()
    {
        var monitoring = storage.GetMonitoringApi();
        var runs = new HashSet<Guid>();
        void Add(IEnumerable<Hangfire.Common.Job?> pending)
        {
            foreach (var job in pending)
            {
                if (job is { Type: var type, Args: [Guid runId, ..] } && type == typeof(TrainRunJob))
                {
                    runs.Add(runId);
                }
            }
        }
        foreach (var queue in TrainRunJob.Queues)
        {
            Add(AllPages((from, count) => monitoring.EnqueuedJobs(queue, from, count), job => job.Job));
            Add(AllPages((from, count) => monitoring.FetchedJobs(queue, from, count), job => job.Job));
        }
        Add(monitoring.ProcessingJobs(0, int.MaxValue).Select(entry => entry.Value.Job));
        Add(monitoring.ScheduledJobs(0, int.MaxValue).Select(entry => entry.Value.Job));
        return runs;
    }

    private static IEnumerable<Hangfire.Common.Job?> AllPages<T>(Func<int, int, JobList<T>> page, Func<T, Hangfire.Common.Job?> job)
    {
        const int PageSize = 500;
        for (var from = 0; ; from += PageSize)
        {
            var jobs = page(from, PageSize);
            foreach (var entry in jobs)
            {
                yield return job(entry.Value);
            }
            if (jobs.Count < PageSize)
            {
                yield break;
            }
        }
    }

    /// <summary>Bounds one pass's work; a longer backlog is handled over the next passes.</summary>
    private const int MaxRequeuedPerPass = 1000;
}
