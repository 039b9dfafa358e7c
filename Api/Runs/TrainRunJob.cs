using Experiments.Api.Hosting;
using Experiments.Api.Persistence;
using Experiments.Domain.Datasets;
using Experiments.Domain.Models;
using Experiments.Domain.Runs;
using Experiments.Domain.Validation;
using Experiments.Training;
using Experiments.Training.Checkpoints;
using Experiments.Training.Data;
using Experiments.Training.Runtime;
using Hangfire;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TorchSharp;

namespace Experiments.Api.Runs;

/// <summary>
/// The Hangfire job that trains one run. It takes the run's id, never the run: the database row is the
/// truth (docs/decisions/002). A delivery claims the run through a lease its heartbeat renews; a delivery
/// for a run that is finished, or owned by a live worker, does nothing; a delivery for a run whose worker
/// died resumes it from its last checkpoint. Every outcome is written to the run, so Hangfire never
/// retries a job: a deterministic failure fails once, with its reason.
/// </summary>
public sealed class TrainRunJob(
    IDbContextFactory<ExperimentsDbContext> databases,
    IHubContext<RunsHub, IRunsClient> hub,
    IOptions<ExperimentsOptions> options,
    IArtifactStore artifacts,
    WorkerIdentity worker,
    RunCancellations cancellations,
    Sweeps.SweepController sweeps,
    TimeProvider time,
    ILogger<TrainRunJob> logger)
{
    /// <summary>The queue of runs on the CPU or on any device (<c>auto</c>): every worker serves it.</summary>
    public const string Queue = "training";

    /// <summary>The queue of runs that ask for <c>cuda</c>: served by workers with a GPU.</summary>
    public const string GpuQueue = "gpu";

    /// <summary>Every queue of runs, in the order a worker with a GPU serves them.</summary>
    public static IReadOnlyList<string> Queues { get; } = [GpuQueue, Queue];

    public static string QueueFor(RunSpec spec) => spec.Device == TrainingDevice.Cuda ? GpuQueue : Queue;

    /// <summary>Queues the delivery of <paramref name="run"/> on its device's queue.</summary>
    public static void Enqueue(IBackgroundJobClient jobs, Run run) =>
        jobs.Enqueue<TrainRunJob>(QueueFor(run.Spec), job => job.ExecuteAsync(run.Id, CancellationToken.None));

    private readonly ExperimentsOptions _options = options.Value;

    [AutomaticRetry(Attempts = 0)]
    public async Task ExecuteAsync(Guid runId, CancellationToken cancellationToken)
    {
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        var run = await db.Runs.FirstOrDefaultAsync(r => r.Id == runId, cancellationToken);
        if (run is null || !run.CanBeClaimed(time.GetUtcNow()))
        {
            logger.LogInformation("Run {RunId} is {Status} (lease owner {Owner}); this delivery has nothing to do.",
                runId, run?.Status.ToString() ?? "gone", run?.LeaseOwner);
            return;
        }
        var resuming = run.Status == RunStatus.Running;
        await using var progress = new RunProgressPublisher(db, hub, run, worker.Id, time, logger);
        try
        {
            var device = TorchRuntime.Resolve(run.Spec.Device ?? TrainingDevice.Auto);
            var torchEnvironment = TorchRuntime.Describe();
            run.Claim(worker.Id, new RunEnvironment(device.ToString(), torchEnvironment.TorchSharpVersion, torchEnvironment.LibTorchVersion ?? "",
                _options.TorchThreadsFor(run.Spec), Environment.MachineName, worker.Id), time.GetUtcNow(), _options.RunLeaseDuration);
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            logger.LogInformation("Run {RunId} was claimed by another worker first.", runId);
            return;
        }
        catch (InvalidOperationException refused)
        {
            await FailAsync(db, run, progress, refused.Message);
            progress.PublishStatus();
            return;
        }

        var control = cancellations.Register(runId, cancellationToken);
        using var heartbeat = new CancellationTokenSource();
        var heartbeatTask = HeartbeatAsync(runId, control, heartbeat.Token);
        Sweeps.TrialPruner? pruner = null;
        try
        {
            progress.PublishStatus();
            if (resuming)
            {
                await RollBackToCheckpointAsync(db, run, progress);
            }
            pruner = await Sweeps.TrialPruner.ForAsync(db, run, databases, cancellationToken);
            if (pruner is not null)
            {
                var judge = pruner;
                progress.EpochStored = async metric =>
                {
                    if (await judge.JudgeAsync(metric, CancellationToken.None))
                    {
                        control.Interrupt(InterruptReason.Pruned);
                    }
                };
            }
            var inputs = await db.InputsOfAsync(run, cancellationToken);
            var (plan, data) = Prepare(inputs);
            var outcome = await Trainer.TrainAsync(plan, data, progress, control.Source.Token);
            await progress.SaveAsync();

            var evaluation = outcome.Evaluation is { } result ? RunEvaluationViews.From("test", result, inputs.Dataset) : null;
            run.Succeed(outcome.Reason, evaluation, time.GetUtcNow());
            await db.SaveChangesAsync(CancellationToken.None);
            await progress.LogAsync(RunLogLevel.Info, outcome.Reason == StopReason.TargetAccuracyReached
                ? $"succeeded: target accuracy reached after {outcome.EpochsCompleted} epochs"
                : $"succeeded: {outcome.EpochsCompleted} epochs completed", CancellationToken.None);
        }
        catch (OperationCanceledException) when (control.Reason == InterruptReason.CancelledByUser)
        {
            await progress.SaveAsync();
            run.ConfirmCancelled(time.GetUtcNow());
            await db.SaveChangesAsync(CancellationToken.None);
            await progress.LogAsync(RunLogLevel.Info, $"cancelled after {run.EpochsCompleted} epochs; metrics and the last checkpoint are kept", CancellationToken.None);
        }
        catch (OperationCanceledException) when (control.Reason == InterruptReason.Pruned)
        {
            await progress.SaveAsync();
            var pruning = pruner!.Decision!;
            run.Prune(pruning, time.GetUtcNow());
            await db.SaveChangesAsync(CancellationToken.None);
            await progress.LogAsync(RunLogLevel.Info, $"succeeded: {pruning.Reason}; {run.EpochsCompleted} epochs completed", CancellationToken.None);
        }
        catch (Exception exception) when (control.Reason == InterruptReason.LeaseLost || exception is DbUpdateConcurrencyException)
        {
            logger.LogWarning("Worker {Worker} lost run {RunId} to another worker; it stops without touching the run.", worker.Id, runId);
            return;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The service is stopping. The run stays Running; releasing the lease lets the next start (or
            // another worker) resume it from its checkpoint at once instead of after the lease runs out.
            await ReleaseLeaseAsync(runId);
            logger.LogInformation("Service stopping: run {RunId} will resume from its checkpoint.", runId);
            return;
        }
        catch (Exception exception) when (exception is TrainingFailedException or InvalidDataException or InvalidOperationException or IOException)
        {
            await FailAsync(db, run, progress, exception.Message);
        }
        catch (Exception exception)
        {
            logger.LogError(exception, "Run {RunId} failed unexpectedly.", runId);
            await FailAsync(db, run, progress, $"unexpected error: {exception.Message}");
        }
        finally
        {
            await heartbeat.CancelAsync();
            await heartbeatTask;
            cancellations.Unregister(runId, control);
        }
        progress.PublishStatus();
        if (run.SweepId is { } sweepId)
        {
            // The trial's end frees a place (or ends the sweep): the controller acts now instead of at its next pass.
            await sweeps.AdvanceQuietlyAsync(sweepId);
        }
    }

    /// <summary>
    /// Renews the lease a few times per lease period, and looks every second for a cancel requested through another
    /// process (a web node, or another worker's API): a cancel reaches a run trained elsewhere within about a second.
    /// </summary>
    private async Task HeartbeatAsync(Guid runId, RunCancellations.Control control, CancellationToken stop)
    {
        var renewEvery = _options.RunLeaseDuration / 3;
        var checkEvery = renewEvery < CancelCheckInterval ? renewEvery : CancelCheckInterval;
        var renewedAt = time.GetUtcNow();
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(checkEvery, time, stop);
                await using var db = await databases.CreateDbContextAsync(stop);
                var now = time.GetUtcNow();
                if (now - renewedAt >= renewEvery - checkEvery / 2)
                {
                    var renewed = await db.Runs
                        .Where(run => run.Id == runId && run.Status == RunStatus.Running && run.LeaseOwner == worker.Id)
                        .ExecuteUpdateAsync(set => set.SetProperty(run => run.LeaseExpiresAt, now + _options.RunLeaseDuration), stop);
                    if (renewed == 0)
                    {
                        control.Interrupt(InterruptReason.LeaseLost);
                        return;
                    }
                    renewedAt = now;
                }
                if (await db.Runs.AnyAsync(run => run.Id == runId && run.CancelRequested, stop))
                {
                    control.Interrupt(InterruptReason.CancelledByUser);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Training ended.
        }
    }

    private static readonly TimeSpan CancelCheckInterval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// A resumed run continues after the epoch of its checkpoint: epochs recorded after it (the previous
    /// worker died between persisting an epoch and checkpointing it) are dropped and trained again.
    /// </summary>
    private async Task RollBackToCheckpointAsync(ExperimentsDbContext db, Run run, RunProgressPublisher progress)
    {
        var checkpointEpoch = Checkpoint.ReadState(artifacts.CheckpointPath(run.Id))?.Epoch ?? 0;
        await db.EpochMetrics.OfRun(run.Id).Where(metric => metric.Epoch > checkpointEpoch).ExecuteDeleteAsync();
        await db.BatchMetrics.Where(metric => metric.RunId == run.Id && metric.Epoch > checkpointEpoch).ExecuteDeleteAsync();
        await db.LayerSnapshots.Where(step => step.RunId == run.Id && step.Epoch > checkpointEpoch).ExecuteDeleteAsync();
        var kept = await db.EpochMetrics.AsNoTracking().OfRun(run.Id).OrderBy(metric => metric.Epoch).ToListAsync();
        run.ResumeAt(checkpointEpoch, kept);
        await db.SaveChangesAsync();
        await progress.LogAsync(RunLogLevel.Warning,
            $"the previous worker stopped; {worker.Id} resumes the run after epoch {checkpointEpoch}", CancellationToken.None);
    }

    private (TrainingPlan Plan, LoadedDataset Data) Prepare(RunInputs inputs)
    {
        var (layers, summary) = inputs.ResolveModel();
        var spec = inputs.Run.Spec;
        var plan = TrainingPlan.For(spec, layers, summary) with
        {
            TorchThreads = _options.TorchThreadsFor(spec),
            CheckpointPath = artifacts.CheckpointPath(inputs.Run.Id),
            WeightsPath = artifacts.WeightsPath(inputs.Run.Id),
            BestWeightsPath = artifacts.BestWeightsPath(inputs.Run.Id),
        };
        return (plan, LoadedDataset.Read(inputs.Dataset, artifacts.TensorFilePath(inputs.Dataset)).HoldOut(spec.ValidationFraction, spec.Seed!.Value));
    }

    private async Task ReleaseLeaseAsync(Guid runId)
    {
        await using var db = await databases.CreateDbContextAsync();
        var now = time.GetUtcNow();
        await db.Runs.Where(run => run.Id == runId && run.LeaseOwner == worker.Id)
            .ExecuteUpdateAsync(set => set.SetProperty(run => run.LeaseExpiresAt, now));
    }

    /// <summary>Fails the run with <paramref name="reason"/>, less any native stack dump libtorch appended to it.</summary>
    private async Task FailAsync(ExperimentsDbContext db, Run run, RunProgressPublisher progress, string reason)
    {
        reason = NativeErrors.WithoutStackDump(reason);
        logger.LogWarning("Run {RunId} failed: {Reason}", run.Id, reason);
        if (!run.IsFinished)
        {
            run.Fail(reason, time.GetUtcNow());
        }
        await db.SaveChangesAsync(CancellationToken.None);
        await progress.LogAsync(RunLogLevel.Error, $"failed: {reason}", CancellationToken.None);
    }
}
