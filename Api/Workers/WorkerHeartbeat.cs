using Experiments.Api.Hosting;
using Experiments.Api.Persistence;
using Experiments.Api.Runs;
using Experiments.Domain.Workers;
using Experiments.Training.Runtime;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Experiments.Api.Workers;

/// <summary>
/// Keeps this training process's row in <c>Workers</c>: written at start, touched every
/// <see cref="ExperimentsOptions.WorkerHeartbeatInterval"/>, marked stopped at shutdown. It also forgets workers stopped
/// or lost for more than a day. What it reports is only shown (<c>GET /api/workers</c>); runs are owned through their
/// leases, never through this row.
/// </summary>
public sealed class WorkerHeartbeat(
    IDbContextFactory<ExperimentsDbContext> databases,
    WorkerIdentity identity,
    WorkerQueues queues,
    IOptions<ExperimentsOptions> options,
    TimeProvider time,
    ILogger<WorkerHeartbeat> logger) : BackgroundService
{
    public static readonly TimeSpan ForgottenAfter = TimeSpan.FromDays(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        await Task.Yield();
        var torch = TorchRuntime.Describe();
        var device = torch.CudaAvailable ? (torch.CudaDevices > 1 ? $"cuda ×{torch.CudaDevices}" : "cuda") : "cpu";
        var threads = settings.TorchThreadsPerRun;
        var worker = new Worker(identity.Id, Environment.MachineName, Environment.ProcessId, device, Math.Max(1, settings.MaxConcurrentRuns),
            queues.Names, threads, time.GetUtcNow());
        await Periodically.RunAsync(stopping => BeatAsync(worker, stopping), settings.WorkerHeartbeatInterval,
            "Recording that this worker is alive", time, logger, stoppingToken);
    }

    private async Task BeatAsync(Worker worker, CancellationToken cancellationToken)
    {
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        var now = time.GetUtcNow();
        var touched = await db.Workers.Where(row => row.Name == worker.Name)
            .ExecuteUpdateAsync(set => set.SetProperty(row => row.LastHeartbeatAt, now), cancellationToken);
        if (touched == 0)
        {
            db.Workers.Add(worker);
            await db.SaveChangesAsync(cancellationToken);
            db.Entry(worker).State = EntityState.Detached;
        }
        var forgotten = now - ForgottenAfter;
        await db.Workers.Where(row => row.LastHeartbeatAt < forgotten).ExecuteDeleteAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await using var db = await databases.CreateDbContextAsync(cancellationToken);
            var now = time.GetUtcNow();
            await db.Workers.Where(row => row.Name == identity.Id)
                .ExecuteUpdateAsync(set => set.SetProperty(row => row.StoppedAt, now).SetProperty(row => row.LastHeartbeatAt, now), cancellationToken);
        }
        catch (Exception exception)
        {
            // Shutdown ran out of time, or the database is gone: the worker's heartbeat stops, so it shows as lost instead.
            logger.LogWarning(exception, "Could not mark worker {Worker} stopped; it will show as lost.", identity.Id);
        }
    }
}
