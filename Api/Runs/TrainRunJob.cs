using System.Diagnostics;
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
    WorkerIdentity worker,
    RunCancellations cancellations,
    TimeProvider time,
    ILogger<TrainRunJob> logger)
{
    public const string Queue = "training";

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
        var observer = new RunObserver(db, hub, run, time, logger);
        try
        {
            var device = TorchRuntime.Resolve(run.Spec.Device ?? TrainingDevice.Auto);
            if (run.Spec.Threads is { } threads)
            {
                torch.set_num_threads(threads);
            }
            var torchEnvironment = TorchRuntime.Describe();
            run.Claim(worker.Id, new RunEnvironment(device.ToString(), torchEnvironment.TorchSharpVersion, torchEnvironment.LibTorchVersion ?? "",
                torch.get_num_threads(), Environment.MachineName, worker.Id), time.GetUtcNow(), _options.RunLeaseDuration);
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            logger.LogInformation("Run {RunId} was claimed by another worker first.", runId);
            return;
        }
        catch (InvalidOperationException refused)
        {
            await FailAsync(db, run, observer, refused.Message);
            await observer.PublishStatusAsync();
            return;
        }

        var control = cancellations.Register(runId, cancellationToken);
        using var heartbeat = new CancellationTokenSource();
        var heartbeatTask = HeartbeatAsync(runId, control, heartbeat.Token);
        try
        {
            await observer.PublishStatusAsync();
            if (resuming)
            {
                await RollBackToCheckpointAsync(db, run, observer);
            }
            var (plan, data) = await PrepareAsync(db, run, cancellationToken);
            var outcome = await Trainer.TrainAsync(plan, data, observer, control.Source.Token);
            await observer.FlushBatchesAsync();

            var dataset = await db.Datasets.AsNoTracking().FirstAsync(d => d.Id == run.DatasetId, CancellationToken.None);
            var evaluation = outcome.Evaluation is { } result ? RunEvaluationViews.From("test", result, dataset) : null;
            run.Succeed(outcome.Reason, evaluation, time.GetUtcNow());
            await db.SaveChangesAsync(CancellationToken.None);
            await observer.LogAsync(RunLogLevel.Info, outcome.Reason == StopReason.TargetAccuracyReached
                ? $"succeeded: target accuracy reached after {outcome.EpochsCompleted} epochs"
                : $"succeeded: {outcome.EpochsCompleted} epochs completed", CancellationToken.None);
        }
        catch (OperationCanceledException) when (control.Reason == InterruptReason.CancelledByUser)
        {
            await observer.FlushBatchesAsync();
            run.ConfirmCancelled(time.GetUtcNow());
            await db.SaveChangesAsync(CancellationToken.None);
            await observer.LogAsync(RunLogLevel.Info, $"cancelled after {run.EpochsCompleted} epochs; metrics and the last checkpoint are kept", CancellationToken.None);
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
            await FailAsync(db, run, observer, exception.Message);
        }
        catch (Exception exception)
        {
            logger.LogError(exception, "Run {RunId} failed unexpectedly.", runId);
            await FailAsync(db, run, observer, $"unexpected error: {exception.Message}");
        }
        finally
        {
            await heartbeat.CancelAsync();
            await heartbeatTask;
            cancellations.Unregister(runId, control);
        }
        await observer.PublishStatusAsync();
    }

    /// <summary>Renews the lease a few times per lease period, and notices a cancel requested through another process.</summary>
    private async Task HeartbeatAsync(Guid runId, RunCancellations.Control control, CancellationToken stop)
    {
        var period = _options.RunLeaseDuration / 3;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(period, time, stop);
                await using var db = await databases.CreateDbContextAsync(stop);
                var now = time.GetUtcNow();
                var renewed = await db.Runs
                    .Where(run => run.Id == runId && run.Status == RunStatus.Running && run.LeaseOwner == worker.Id)
                    .ExecuteUpdateAsync(set => set.SetProperty(run => run.LeaseExpiresAt, now + _options.RunLeaseDuration), stop);
                if (renewed == 0)
                {
                    control.Interrupt(InterruptReason.LeaseLost);
                    return;
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

    /// <summary>
    /// A resumed run continues after the epoch of its checkpoint: epochs recorded after it (the previous
    /// worker died between persisting an epoch and checkpointing it) are dropped and trained again.
    /// </summary>
    private async Task RollBackToCheckpointAsync(ExperimentsDbContext db, Run run, RunObserver observer)
    {
        var checkpointEpoch = Checkpoint.ReadState(_options.CheckpointPath(run.Id))?.Epoch ?? 0;
        await db.EpochMetrics.Where(metric => metric.RunId == run.Id && metric.Epoch > checkpointEpoch).ExecuteDeleteAsync();
        await db.BatchMetrics.Where(metric => metric.RunId == run.Id && metric.Epoch > checkpointEpoch).ExecuteDeleteAsync();
        var kept = await db.EpochMetrics.AsNoTracking().Where(metric => metric.RunId == run.Id).OrderBy(metric => metric.Epoch).ToListAsync();
        run.ResumeAt(checkpointEpoch, kept);
        await db.SaveChangesAsync();
        await observer.LogAsync(RunLogLevel.Warning,
            $"the previous worker stopped; {worker.Id} resumes the run after epoch {checkpointEpoch}", CancellationToken.None);
    }

    private async Task<(TrainingPlan Plan, LoadedDataset Data)> PrepareAsync(ExperimentsDbContext db, Run run, CancellationToken cancellationToken)
    {
        var dataset = await db.Datasets.AsNoTracking().FirstAsync(d => d.Id == run.DatasetId, cancellationToken);
        var model = await db.Models.AsNoTracking().FirstAsync(m => m.Id == run.ModelId, cancellationToken);
        var (layers, summary) = ResolveModel(run.Spec, dataset, model);
        var spec = run.Spec;
        var plan = new TrainingPlan(layers, summary, spec.Optimizer!, spec.Loss!, spec.Epochs!.Value, spec.BatchSize!.Value,
            spec.Shuffle!.Value, spec.Seed!.Value, spec.TargetAccuracy, spec.Device!.Value, spec.Scheduler)
        {
            GradientClipNorm = spec.GradientClipNorm,
            EvaluateEvery = spec.EvaluateEvery ?? 1,
            LogEveryBatches = spec.LogEveryBatches,
            CheckpointPath = _options.CheckpointPath(run.Id),
            WeightsPath = _options.WeightsPath(run.Id),
        };
        var (shape, train, test) = DatasetFile.Read(Path.Combine(_options.DatasetsFolderPath, dataset.TensorFile));
        var data = DatasetPreprocessing.Apply(dataset.Preprocessing, new LoadedDataset(shape, train, test));
        return (plan, data with { ClassCount = dataset.ClassCount });
    }

    /// <summary>The model's resolved layers and shapes for a run's dataset (checked again: both are immutable, so this only fails on a bug).</summary>
    public static (IReadOnlyList<LayerSpec> Layers, ModelSummary Summary) ResolveModel(RunSpec spec, Dataset dataset, ModelDefinition model)
    {
        var errors = new ValidationErrors();
        var summary = RunSpecValidator.CheckFit(spec, dataset, model, errors)
            ?? throw new InvalidOperationException($"the model no longer fits the dataset: {errors}");
        return (ModelValidator.Resolve(model.Layers, errors)!, summary);
    }

    private async Task ReleaseLeaseAsync(Guid runId)
    {
        await using var db = await databases.CreateDbContextAsync();
        var now = time.GetUtcNow();
        await db.Runs.Where(run => run.Id == runId && run.LeaseOwner == worker.Id)
            .ExecuteUpdateAsync(set => set.SetProperty(run => run.LeaseExpiresAt, now));
    }

    private async Task FailAsync(ExperimentsDbContext db, Run run, RunObserver observer, string reason)
    {
        logger.LogWarning("Run {RunId} failed: {Reason}", run.Id, reason);
        if (!run.IsFinished)
        {
            run.Fail(reason, time.GetUtcNow());
        }
        await db.SaveChangesAsync(CancellationToken.None);
        await observer.LogAsync(RunLogLevel.Error, $"failed: {reason}", CancellationToken.None);
    }

    /// <summary>Persists each epoch and log line, then pushes it to the run's hub groups; throttles batch progress.</summary>
    private sealed class RunObserver(ExperimentsDbContext db, IHubContext<RunsHub, IRunsClient> hub, Run run, TimeProvider time, ILogger logger) : IRunObserver
    {
        private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(250);
        private readonly List<BatchMetric> _pendingBatches = [];
        // Zero: the first batch of a run is always published, so watchers see it start at once.
        private long _lastProgress;

        public async Task EpochCompletedAsync(EpochMetricView result, CancellationToken cancellationToken)
        {
            var metric = EpochMetric.From(run.Id, result);
            run.RecordEpoch(metric);
            db.EpochMetrics.Add(metric);
            await FlushBatchesAsync();
            db.Entry(metric).State = EntityState.Detached;
            await hub.RunAndAll(run.Id).EpochCompleted(new EpochCompleted(run.Id, result) { PublishedAt = time.GetUtcNow() });
        }

        public void BatchCompleted(int epoch, int batch, int batchesPerEpoch, long step, float? loss)
        {
            if (loss is { } value)
            {
                _pendingBatches.Add(new BatchMetric(run.Id, epoch, batch, step, value));
            }
            if (Stopwatch.GetElapsedTime(_lastProgress) < ProgressInterval && batch != batchesPerEpoch)
            {
                return;
            }
            _lastProgress = Stopwatch.GetTimestamp();
            hub.RunAndAll(run.Id).BatchProgress(new BatchProgress(run.Id, epoch, batch, batchesPerEpoch, loss))
                .ContinueWith(task => logger.LogDebug(task.Exception, "Batch progress of run {RunId} was not delivered.", run.Id),
                    CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }

        /// <summary>Writes buffered batch losses together with whatever else the context holds for this run.</summary>
        public async Task FlushBatchesAsync()
        {
            db.BatchMetrics.AddRange(_pendingBatches);
            await db.SaveChangesAsync(CancellationToken.None);
            foreach (var batch in _pendingBatches)
            {
                db.Entry(batch).State = EntityState.Detached;
            }
            _pendingBatches.Clear();
        }

        public async Task LogAsync(RunLogLevel level, string message, CancellationToken cancellationToken)
        {
            var entry = new RunLogEntry { RunId = run.Id, Timestamp = time.GetUtcNow(), Level = level.ToString().ToLowerInvariant(), Message = message };
            db.RunLogs.Add(entry);
            await db.SaveChangesAsync(CancellationToken.None);
            db.Entry(entry).State = EntityState.Detached;
            await hub.RunAndAll(run.Id).LogLine(new LogLineWritten(run.Id, new RunLogLine(entry.Id, entry.Timestamp, entry.Level, entry.Message)));
        }

        public Task PublishStatusAsync() =>
            hub.RunAndAll(run.Id).RunStatusChanged(new RunStatusChanged(run.Id, run.Status, run.StopReason, run.Error, time.GetUtcNow()));
    }
}
