using Experiments.Domain.Runs;

namespace Experiments.Training;

public enum RunLogLevel
{
    Info,
    Warning,
    Error,
}

/// <summary>A line of a run's log, as the trainer writes it.</summary>
public readonly record struct RunLogMessage(RunLogLevel Level, string Message);

/// <summary>
/// How the trainer reports; the host persists and publishes what it hears. <see cref="EpochCompletedAsync"/> and
/// <see cref="LogAsync"/> are called off the training thread, one at a time and in the order things happened;
/// <see cref="BatchCompleted"/> and <see cref="LayersWatched"/> on the training thread, meanwhile.
/// </summary>
public interface IRunObserver
{
    /// <summary>
    /// Called after every epoch with the log lines the epoch wrote; the epoch's checkpoint is written once it returns, so
    /// an observer that stores epochs never has one that is checkpointed and not stored.
    /// </summary>
    Task EpochCompletedAsync(EpochMetric result, IReadOnlyList<RunLogMessage> lines, CancellationToken cancellationToken);

    /// <summary>
    /// Called after every batch, on the training thread: keep it cheap (throttle, buffer). <paramref name="loss"/> is
    /// set on the batches whose loss was read back from the device: an epoch's first and last batch, every 250 ms in
    /// between, and the batches chosen by <c>logEveryBatches</c>, which are the ones <paramref name="logged"/> marks.
    /// </summary>
    void BatchCompleted(int epoch, int batch, int batchesPerEpoch, long step, float? loss, bool logged);

    Task LogAsync(RunLogLevel level, string message, CancellationToken cancellationToken);

    /// <summary>
    /// Called on the training thread with each snapshot of a run with <c>watch</c>, right after its step: keep it cheap (buffer,
    /// queue). An observer that has no use for snapshots need not implement it.
    /// </summary>
    void LayersWatched(LayerSnapshot snapshot)
    {
    }
}
