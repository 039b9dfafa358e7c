using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using Experiments.Domain.Runs;
using Experiments.Training.Checkpoints;

namespace Experiments.Training;

/// <summary>
/// Makes a run's epochs durable off the training thread, in the order they happened: for each epoch the observer stores
/// its metrics and log lines (the service: one transaction), then the checkpoint is written from the epoch's
/// <see cref="CheckpointSnapshot"/>, then the best weights. A checkpoint is therefore never ahead of the stored epochs, which
/// is what a resume relies on (it drops stored epochs after its checkpoint and trains them again).
/// The training thread only captures the snapshot (memory copies) and queues; it waits only when the previous epoch's
/// checkpoint is still being written, since there is one snapshot. The first failure (a database or disk error) stops
/// training at its next epoch and is thrown by <see cref="CompleteAsync"/>; what is already queued is still written
/// when training stops for another reason (a cancel keeps every finished epoch).
/// </summary>
internal sealed class EpochWriter : IDisposable
{
    private readonly IRunObserver _observer;
    private readonly string? _checkpointPath;
    private readonly string? _bestWeightsPath;
    private readonly CheckpointSnapshot _snapshot = new();
    private readonly SemaphoreSlim _snapshotFree = new(1, 1);
    private readonly Channel<Entry> _entries = Channel.CreateUnbounded<Entry>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly Task _writing;
    private volatile ExceptionDispatchInfo? _failure;

    public EpochWriter(IRunObserver observer, string? checkpointPath, string? bestWeightsPath)
    {
        _observer = observer;
        _checkpointPath = checkpointPath;
        _bestWeightsPath = bestWeightsPath;
        _writing = Task.Run(WriteAsync);
    }

    private sealed record Entry(EpochMetric? Metric, IReadOnlyList<RunLogMessage> Lines, bool HoldsSnapshot, bool Checkpoint, bool BestWeights);

    /// <summary>Queues a log line that belongs to no epoch.</summary>
    public void Log(RunLogLevel level, string message)
    {
        ThrowIfFailed();
        _entries.Writer.TryWrite(new Entry(null, [new RunLogMessage(level, message)], false, false, false));
    }

    /// <summary>
    /// Queues an epoch: its metrics and log lines, and with <paramref name="capture"/> its checkpoint (and, with
    /// <paramref name="bestWeights"/>, the best weights), captured now into the snapshot.
    /// </summary>
    public void Epoch(EpochMetric metric, IReadOnlyList<RunLogMessage> lines, Action<CheckpointSnapshot>? capture, bool bestWeights)
    {
        ThrowIfFailed();
        var checkpoint = capture is not null && _checkpointPath is not null;
        var best = capture is not null && bestWeights && _bestWeightsPath is not null;
        if (checkpoint || best)
        {
            _snapshotFree.Wait();
            try
            {
                capture!(_snapshot);
            }
            catch
            {
                _snapshotFree.Release();
                throw;
            }
        }
        _entries.Writer.TryWrite(new Entry(metric, lines, checkpoint || best, checkpoint, best));
    }

    /// <summary>Waits until everything queued is written; throws the first failure.</summary>
    public async Task CompleteAsync()
    {
        _entries.Writer.TryComplete();
        await _writing;
        _failure?.Throw();
    }

    /// <summary>Waits until everything queued is written, keeping quiet about a failure: training already failed for a reason of its own.</summary>
    public async Task DrainAsync()
    {
        _entries.Writer.TryComplete();
        await _writing;
    }

    /// <summary>Call after <see cref="CompleteAsync"/> or <see cref="DrainAsync"/>.</summary>
    public void Dispose()
    {
        _snapshot.Dispose();
        _snapshotFree.Dispose();
    }

    private void ThrowIfFailed() => _failure?.Throw();

    private async Task WriteAsync()
    {
        await foreach (var entry in _entries.Reader.ReadAllAsync())
        {
            try
            {
                if (_failure is null)
                {
                    await WriteAsync(entry);
                }
            }
            catch (Exception exception)
            {
                _failure = ExceptionDispatchInfo.Capture(exception);
            }
            finally
            {
                if (entry.HoldsSnapshot)
                {
                    _snapshotFree.Release();
                }
            }
        }
    }

    private async Task WriteAsync(Entry entry)
    {
        if (entry.Metric is not { } metric)
        {
            var line = entry.Lines[0];
            await _observer.LogAsync(line.Level, line.Message, CancellationToken.None);
            return;
        }
        await _observer.EpochCompletedAsync(metric, entry.Lines, CancellationToken.None);
        if (entry.Checkpoint)
        {
            Checkpoints.Checkpoint.WriteWhole(_checkpointPath!, _snapshot.Write);
        }
        if (entry.BestWeights)
        {
            Checkpoints.Checkpoint.WriteWhole(_bestWeightsPath!, _snapshot.WriteModel);
        }
    }
}
