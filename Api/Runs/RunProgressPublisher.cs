using System.Diagnostics;
using Experiments.Api.Persistence;
using Experiments.Domain.Runs;
using Experiments.Training;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;

namespace Experiments.Api.Runs;

/// <summary>
/// What a training run reports, saved and then pushed live: each epoch (with the run's summary and the batch
/// losses buffered since the last save) and each log line are written to the database, then published to the
/// run's hub groups; batch progress is published at most four times a second and never stored.
/// </summary>
public sealed class RunProgressPublisher(ExperimentsDbContext db, IHubContext<RunsHub, IRunsClient> hub, Run run, TimeProvider time, ILogger logger) : IRunObserver
{
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(250);
    private readonly List<BatchMetric> _pendingBatches = [];
    // Zero: the first batch of a run is always published, so watchers see it start at once.
    private long _lastProgress;
    private float? _latestLoss;

    public async Task EpochCompletedAsync(EpochMetric result, CancellationToken cancellationToken)
    {
        run.RecordEpoch(result);
        var entry = db.AddEpoch(run.Id, result);
        await SaveAsync();
        entry.State = EntityState.Detached;
        await hub.RunAndAll(run.Id).EpochCompleted(new EpochCompleted(run.Id, result) { PublishedAt = time.GetUtcNow() });
    }

    public void BatchCompleted(int epoch, int batch, int batchesPerEpoch, long step, float? loss, bool logged)
    {
        if (loss is { } value)
        {
            _latestLoss = value;
            if (logged)
            {
                _pendingBatches.Add(new BatchMetric(run.Id, epoch, batch, step, value));
            }
        }
        if (Stopwatch.GetElapsedTime(_lastProgress) < ProgressInterval && batch != batchesPerEpoch)
        {
            return;
        }
        _lastProgress = Stopwatch.GetTimestamp();
        hub.RunAndAll(run.Id).BatchProgress(new BatchProgress(run.Id, epoch, batch, batchesPerEpoch, _latestLoss))
            .ContinueWith(task => logger.LogDebug(task.Exception, "Batch progress of run {RunId} was not delivered.", run.Id),
                CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
    }

    /// <summary>Saves the run's pending changes together with the batch losses buffered since the last save.</summary>
    public async Task SaveAsync()
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
