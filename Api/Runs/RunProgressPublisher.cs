using System.Diagnostics;
using System.Threading.Channels;
using Experiments.Api.Persistence;
using Experiments.Domain.Runs;
using Experiments.Training;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;

namespace Experiments.Api.Runs;

/// <summary>
/// What a training run reports, saved and then pushed live: each epoch is written to the database in one transaction
/// with its log lines, the run's summary and the batch losses buffered since the last save (off the training thread:
/// see <see cref="IRunObserver"/>), then published to the run's hub groups; other log lines likewise; batch progress is published at most four times a second and never stored; the snapshots of
/// <c>watch</c> are saved with the next epoch and pushed to the run's own group.
/// Publishing never holds training up: events go, in the order they happened, through one sender of their own, so
/// a slow client or a Redis backplane that is gone (each send then waits for its timeout) delays only the events.
/// </summary>
public sealed class RunProgressPublisher : IRunObserver, IAsyncDisposable
{
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>How long the end of a job waits for its last events to be sent before leaving them to the sender.</summary>
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(10);

    private readonly ExperimentsDbContext _db;
    private readonly IHubContext<RunsHub, IRunsClient> _hub;
    private readonly Run _run;
    private readonly string _worker;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    // Filled on the training thread, saved from the writer's: both lists are guarded by this lock.
    private readonly Lock _pending = new();
    private readonly List<BatchMetric> _pendingBatches = [];
    private readonly List<WatchedStep> _pendingSnapshots = [];
    private readonly Channel<Func<IRunsClient, Task>> _events = Channel.CreateUnbounded<Func<IRunsClient, Task>>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _sender;
    // 1 while a batch progress event waits to be sent: at most one is ever queued.
    private int _progressQueued;
    // 1 while a layer snapshot waits to be sent: like progress, a snapshot is dropped from the live events (never from the
    // database) rather than queued behind another.
    private int _snapshotQueued;
    // Zero: the first batch of a run is always published, so watchers see it start at once.
    private long _lastProgress;
    private float? _latestLoss;

    public RunProgressPublisher(ExperimentsDbContext db, IHubContext<RunsHub, IRunsClient> hub, Run run, string worker, TimeProvider time, ILogger logger)
    {
        _db = db;
        _hub = hub;
        _run = run;
        _worker = worker;
        _time = time;
        _logger = logger;
        _sender = Task.Run(SendAsync);
    }

    /// <summary>Called with each epoch once it is stored (off the training thread, in order): a sweep judges its trials there.</summary>
    public Func<EpochMetric, Task>? EpochStored { get; set; }

    /// <summary>
    /// Stores the epoch, its log lines, the run's summary and the batch losses and layer snapshots of the epochs so far in one
    /// transaction, then publishes the epoch and its lines.
    /// </summary>
    public async Task EpochCompletedAsync(EpochMetric result, IReadOnlyList<RunLogMessage> lines, CancellationToken cancellationToken)
    {
        _run.RecordEpoch(result);
        var entry = _db.AddEpoch(_run.Id, result, _worker);
        var logEntries = lines.Select(NewLogEntry).ToList();
        _db.RunLogs.AddRange(logEntries);
        await SaveAsync(throughEpoch: result.Epoch);
        entry.State = EntityState.Detached;
        var completed = new EpochCompleted(_run.Id, result) { PublishedAt = _time.GetUtcNow() };
        Publish(clients => clients.EpochCompleted(completed));
        foreach (var logEntry in logEntries)
        {
            PublishLine(logEntry);
        }
        if (EpochStored is { } stored)
        {
            await stored(result);
        }
    }

    public void BatchCompleted(int epoch, int batch, int batchesPerEpoch, long step, float? loss, bool logged)
    {
        if (loss is { } value)
        {
            _latestLoss = value;
            if (logged)
            {
                lock (_pending)
                {
                    _pendingBatches.Add(new BatchMetric(_run.Id, epoch, batch, step, value));
                }
            }
        }
        if (Stopwatch.GetElapsedTime(_lastProgress) < ProgressInterval && batch != batchesPerEpoch)
        {
            return;
        }
        _lastProgress = Stopwatch.GetTimestamp();
        // Progress is only ever the latest news: while an earlier one still waits to be sent (a slow client, a backplane
        // gone), this one is dropped rather than queued behind it.
        if (Interlocked.CompareExchange(ref _progressQueued, 1, 0) != 0)
        {
            return;
        }
        var progress = new BatchProgress(_run.Id, epoch, batch, batchesPerEpoch, _latestLoss);
        Publish(async clients =>
        {
            try
            {
                await clients.BatchProgress(progress);
            }
            finally
            {
                Volatile.Write(ref _progressQueued, 0);
            }
        });
    }

    public void LayersWatched(LayerSnapshot snapshot)
    {
        lock (_pending)
        {
            _pendingSnapshots.Add(new WatchedStep { RunId = _run.Id, Step = snapshot.Step, Epoch = snapshot.Epoch, Snapshot = snapshot });
        }
        if (Interlocked.CompareExchange(ref _snapshotQueued, 1, 0) != 0)
        {
            return;
        }
        var watched = new LayersWatched(_run.Id, snapshot);
        var runOnly = _hub.Clients.Group(RunsHub.RunGroup(_run.Id));
        Publish(async _ =>
        {
            try
            {
                await runOnly.LayersWatched(watched);
            }
            finally
            {
                Volatile.Write(ref _snapshotQueued, 0);
            }
        });
    }

    /// <summary>
    /// Saves the run's pending changes together with the batch losses and layer snapshots buffered since the last save (those
    /// of epochs up to <paramref name="throughEpoch"/> only, when given: the training thread may have gone on to the next).
    /// </summary>
    public async Task SaveAsync(int? throughEpoch = null)
    {
        List<BatchMetric> batches;
        List<WatchedStep> steps;
        lock (_pending)
        {
            batches = Take(_pendingBatches, batch => throughEpoch is not { } last || batch.Epoch <= last);
            steps = Take(_pendingSnapshots, step => throughEpoch is not { } last || step.Epoch <= last);
        }
        _db.BatchMetrics.AddRange(batches);
        _db.LayerSnapshots.AddRange(steps);
        await _db.SaveChangesAsync(CancellationToken.None);
        foreach (var batch in batches)
        {
            _db.Entry(batch).State = EntityState.Detached;
        }
        foreach (var step in steps)
        {
            _db.Entry(step).State = EntityState.Detached;
        }
    }

    public async Task LogAsync(RunLogLevel level, string message, CancellationToken cancellationToken)
    {
        var entry = NewLogEntry(new RunLogMessage(level, message));
        _db.RunLogs.Add(entry);
        await _db.SaveChangesAsync(CancellationToken.None);
        PublishLine(entry);
    }

    private RunLogEntry NewLogEntry(RunLogMessage line) =>
        new() { RunId = _run.Id, Timestamp = _time.GetUtcNow(), Level = line.Level.ToString().ToLowerInvariant(), Message = line.Message };

    /// <summary>Publishes a saved log line and stops tracking it.</summary>
    private void PublishLine(RunLogEntry entry)
    {
        _db.Entry(entry).State = EntityState.Detached;
        var line = new LogLineWritten(_run.Id, new RunLogLine(entry.Id, entry.Timestamp, entry.Level, entry.Message));
        Publish(clients => clients.LogLine(line));
    }

    private static List<T> Take<T>(List<T> pending, Predicate<T> taken)
    {
        var result = pending.FindAll(taken);
        pending.RemoveAll(taken);
        return result;
    }

    public void PublishStatus()
    {
        var change = new RunStatusChanged(_run.Id, _run.Status, _run.StopReason, _run.Error, _time.GetUtcNow());
        Publish(clients => clients.RunStatusChanged(change));
    }

    private void Publish(Func<IRunsClient, Task> send) => _events.Writer.TryWrite(send);

    private async Task SendAsync()
    {
        var clients = _hub.RunAndAll(_run.Id);
        await foreach (var send in _events.Reader.ReadAllAsync())
        {
            try
            {
                await send(clients);
            }
            catch (Exception exception)
            {
                _logger.LogDebug(exception, "A live event of run {RunId} was not delivered; clients catch up from REST.", _run.Id);
            }
        }
    }

    /// <summary>Sends what is still queued (waiting at most <see cref="DrainTimeout"/>; the rest is sent after the job ends).</summary>
    public async ValueTask DisposeAsync()
    {
        _events.Writer.TryComplete();
        await Task.WhenAny(_sender, Task.Delay(DrainTimeout));
    }
}
