using Experiments.Api.Hosting;
using Experiments.Api.Persistence;
using Experiments.Domain.Access;
using Experiments.Domain.Runs;
using Experiments.Domain.Workers;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Experiments.Api.Workers;

/// <summary><c>GET /api/workers</c>: the processes that train, what they are training, and whether they are alive.</summary>
public static class WorkersApi
{
    public static IEndpointRouteBuilder MapWorkers(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/workers").WithTags("Workers").RefuseUnknownQueryParameters().AnswerProblemsAsProblemJson().RequireAuthorization(Policies.Viewer)
            .MapGet("/", List)
            .WithName("listWorkers")
            .WithSummary("The training processes: name, device, capacity, queues, current runs and last heartbeat")
            .WithDescription("`status` is active (heartbeat within one run lease), stopped (shut down cleanly) or lost (no heartbeat for longer "
                + "than a run lease: its runs are resumed by other workers). Workers stopped or lost for more than a day are not listed.");
        return app;
    }

    public static async Task<Ok<IReadOnlyList<WorkerView>>> List(IWorkerQueries workers, CancellationToken cancellationToken) =>
        TypedResults.Ok(await workers.ListAsync(cancellationToken));
}

public sealed class WorkerQueries(ExperimentsDbContext db, IOptions<ExperimentsOptions> options, TimeProvider time) : IWorkerQueries
{
    public async Task<IReadOnlyList<WorkerView>> ListAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var lease = options.Value.RunLeaseDuration;
        var remembered = now - WorkerHeartbeat.ForgottenAfter;
        var workers = await db.Workers.AsNoTracking().Where(worker => worker.LastHeartbeatAt >= remembered).ToListAsync(cancellationToken);
        var running = (await db.Runs.AsNoTracking().Where(run => run.Status == RunStatus.Running && run.LeaseOwner != null)
                .OrderBy(run => run.StartedAt).Select(run => new { run.Id, run.LeaseOwner }).ToListAsync(cancellationToken))
            .ToLookup(run => run.LeaseOwner!, run => run.Id);
        return [.. workers
            .Select(worker => new WorkerView(worker.Name, worker.StatusAt(now, lease), worker.Machine, worker.ProcessId, worker.Device, worker.Capacity,
                worker.Queues, worker.TorchThreads, [.. running[worker.Name]], worker.StartedAt, worker.LastHeartbeatAt, worker.StoppedAt))
            .OrderBy(worker => worker.Status)
            .ThenBy(worker => worker.Name, StringComparer.Ordinal)];
    }
}
