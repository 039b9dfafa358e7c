using Experiments.Domain.Runs;

namespace Experiments.Training;

public enum RunLogLevel
{
    Info,
    Warning,
    Error,
}

/// <summary>How the trainer reports; the host persists and publishes what it hears.</summary>
public interface IRunObserver
{
    /// <summary>Called after every epoch, before its checkpoint is written.</summary>
    Task EpochCompletedAsync(EpochMetric result, CancellationToken cancellationToken);

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
