using System.Diagnostics;
using System.Threading.Channels;
using Experiments.Api.Persistence;
using Experiments.Domain.Runs;
using Experiments.Training;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;

namespace Experiments.Api.Runs;

/// <summary>
/// What a training run reports, saved and then pushed live: each epoch (with the run's summary and the batch
/// losses buffered since the last save) and each log line are written to the database, then published to the
/// run's hub groups; batch progress is published at most four times a second and never stored; the snapshots of
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

    public async Task EpochCompletedAsync(EpochMetric result, CancellationToken cancellationToken)
    {
        _run.RecordEpoch(result);
        var entry = _db.AddEpoch(_run.Id, result, _worker);
        await SaveAsync();
        entry.State = EntityState.Detached;
        var completed = new EpochCompleted(_run.Id, result) { PublishedAt = _time.GetUtcNow() };
        Publish(clients => clients.EpochCompleted(completed));
    }

    public void BatchCompleted(int epoch, int batch, int batchesPerEpoch, long step, float? loss, bool logged)
    {
        if (loss is { } value)
        {
            _latestLoss = value;
            if (logged)
            {
                _pendingBatches.Add(new BatchMetric(_run.Id, epoch, batch, step, value));
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
        _pendingSnapshots.Add(new WatchedStep { RunId = _run.Id, Step = snapshot.Step, Epoch = snapshot.Epoch, Snapshot = snapshot });
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

    /// <summary>Saves the run's pending changes together with the batch losses and layer snapshots buffered since the last save.</summary>
    public async Task SaveAsync()
    {
        _db.BatchMetrics.AddRange(_pendingBatches);
        _db.LayerSnapshots.AddRange(_pendingSnapshots);
        await _db.SaveChangesAsync(CancellationToken.None);
        foreach (var batch in _pendingBatches)
        {
            _db.Entry(batch).State = EntityState.Detached;
        }
        foreach (var step in _pendingSnapshots)
        {
            _db.Entry(step).State = EntityState.Detached;
        }
        _pendingBatches.Clear();
        _pendingSnapshots.Clear();
    }

    public async Task LogAsync(RunLogLevel level, string message, CancellationToken cancellationToken)
    {
        var entry = new RunLogEntry { RunId = _run.Id, Timestamp = _time.GetUtcNow(), Level = level.ToString().ToLowerInvariant(), Message = message };
        _db.RunLogs.Add(entry);
        await _db.SaveChangesAsync(CancellationToken.None);
        _db.Entry(entry).State = EntityState.Detached;
        var line = new LogLineWritten(_run.Id, new RunLogLine(entry.Id, entry.Timestamp, entry.Level, entry.Message));
        Publish(clients => clients.LogLine(line));
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
