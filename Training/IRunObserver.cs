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
    /// Called after every batch, on the training thread: keep it cheap (throttle, buffer).
    /// <paramref name="loss"/> is set on the batches chosen by <c>logEveryBatches</c>.
    /// </summary>
    void BatchCompleted(int epoch, int batch, int batchesPerEpoch, long step, float? loss);

    Task LogAsync(RunLogLevel level, string message, CancellationToken cancellationToken);
}
