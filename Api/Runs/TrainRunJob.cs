using Experiments.Api.Hosting;
using Experiments.Api.Persistence;
using Experiments.Domain.Models;
using Experiments.Domain.Runs;
using Experiments.Domain.Validation;
using Experiments.Training;
using Experiments.Training.Data;
using Experiments.Training.Runtime;
using Hangfire;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Experiments.Api.Runs;

/// <summary>
/// The Hangfire job that trains one run. It takes the run's id, never the run: the database row is the
/// truth, and a delivery for a run that is not queued any more does nothing. Every outcome, failures
/// included, is written to the run, so Hangfire never retries it.
/// </summary>
public sealed class TrainRunJob(
    IDbContextFactory<ExperimentsDbContext> databases,
    IHubContext<RunsHub, IRunsClient> hub,
    IOptions<ExperimentsOptions> options,
    TimeProvider time,
    ILogger<TrainRunJob> logger)
{
    public const string Queue = "training";

    [AutomaticRetry(Attempts = 0)]
    public async Task ExecuteAsync(Guid runId, CancellationToken cancellationToken)
    {
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        var run = await db.Runs.FirstOrDefaultAsync(r => r.Id == runId, cancellationToken);
        if (run is null || run.Status != RunStatus.Queued)
        {
            logger.LogInformation("Run {RunId} is {Status}; this delivery has nothing to do.", runId, run?.Status.ToString() ?? "gone");
            return;
        }
        var observer = new RunObserver(db, hub, run, time);
        try
        {
            var device = TorchRuntime.Resolve(run.Spec.Device ?? TrainingDevice.Auto);
            run.Start(device.ToString(), time.GetUtcNow());
            await db.SaveChangesAsync(cancellationToken);
            await observer.PublishStatusAsync();

            var plan = await PlanAsync(db, run, cancellationToken);
            var dataset = await db.Datasets.AsNoTracking().FirstAsync(d => d.Id == run.DatasetId, cancellationToken);
            var (shape, train, test) = DatasetFile.Read(Path.Combine(options.Value.DatasetsFolderPath, dataset.TensorFile));
            var data = DatasetPreprocessing.Apply(dataset.Preprocessing, new LoadedDataset(shape, train, test));
            var outcome = await Trainer.TrainAsync(plan, data, observer, cancellationToken);

            run.Succeed(outcome.Reason, time.GetUtcNow());
            await db.SaveChangesAsync(CancellationToken.None);
            await observer.LogAsync(outcome.Reason == StopReason.TargetAccuracyReached
                ? $"succeeded: target accuracy reached after {outcome.EpochsCompleted} epochs"
                : $"succeeded: {outcome.EpochsCompleted} epochs completed", CancellationToken.None);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await FailAsync(db, run, observer, $"the service stopped while the run was training (after {run.EpochsCompleted} epochs); create the run again");
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
        await observer.PublishStatusAsync();
    }

    private static async Task<TrainingPlan> PlanAsync(ExperimentsDbContext db, Run run, CancellationToken cancellationToken)
    {
        var dataset = await db.Datasets.AsNoTracking().FirstAsync(d => d.Id == run.DatasetId, cancellationToken);
        var model = await db.Models.AsNoTracking().FirstAsync(m => m.Id == run.ModelId, cancellationToken);
        var errors = new ValidationErrors();
        var summary = RunSpecValidator.CheckFit(run.Spec, dataset, model, errors)
            ?? throw new InvalidOperationException($"the model no longer fits the dataset: {errors}");
        var layers = ModelValidator.Resolve(model.Layers, errors)!;
        var spec = run.Spec;
        return new TrainingPlan(layers, summary, spec.Optimizer!, spec.Loss!, spec.Epochs!.Value, spec.BatchSize!.Value,
            spec.Shuffle!.Value, spec.Seed!.Value, spec.TargetAccuracy, spec.Device!.Value);
    }

    private async Task FailAsync(ExperimentsDbContext db, Run run, RunObserver observer, string reason)
    {
        logger.LogWarning("Run {RunId} failed: {Reason}", run.Id, reason);
        if (!run.IsFinished)
        {
            run.Fail(reason, time.GetUtcNow());
        }
        await db.SaveChangesAsync(CancellationToken.None);
        await observer.LogAsync($"failed: {reason}", "error", CancellationToken.None);
    }

    /// <summary>Persists each epoch and log line, then pushes it to the run's hub groups.</summary>
    private sealed class RunObserver(ExperimentsDbContext db, IHubContext<RunsHub, IRunsClient> hub, Run run, TimeProvider time) : IRunObserver
    {
        public async Task EpochCompletedAsync(EpochResult result, CancellationToken cancellationToken)
        {
            var metric = new EpochMetric(run.Id, result.Epoch, result.TrainLoss, result.TrainAccuracy, result.TestLoss, result.TestAccuracy, result.LearningRate, result.Seconds);
            run.RecordEpoch(metric);
            db.EpochMetrics.Add(metric);
            await db.SaveChangesAsync(CancellationToken.None);
            db.Entry(metric).State = EntityState.Detached;
            await hub.RunAndAll(run.Id).EpochCompleted(new EpochCompleted(run.Id, EpochMetricView.From(metric)));
        }

        public Task LogAsync(string message, CancellationToken cancellationToken) => LogAsync(message, "info", cancellationToken);

        public async Task LogAsync(string message, string level, CancellationToken cancellationToken)
        {
            var entry = new RunLogEntry { RunId = run.Id, Timestamp = time.GetUtcNow(), Level = level, Message = message };
            db.RunLogs.Add(entry);
            await db.SaveChangesAsync(CancellationToken.None);
            db.Entry(entry).State = EntityState.Detached;
            await hub.RunAndAll(run.Id).LogLine(new LogLineWritten(run.Id, new RunLogLine(entry.Id, entry.Timestamp, entry.Level, entry.Message)));
        }

        public Task PublishStatusAsync() =>
            hub.RunAndAll(run.Id).RunStatusChanged(new RunStatusChanged(run.Id, run.Status, run.StopReason, run.Error, time.GetUtcNow()));
    }
}
