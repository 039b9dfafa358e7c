namespace Experiments.Training;

/// <summary>
/// Metrics of one finished epoch, on the training split and the test split: accuracies for classification;
/// for regression no accuracy, and the test split's mean squared error, mean absolute error and R².
/// Test metrics are null when the epoch was not evaluated.
/// </summary>
public sealed record EpochResult(
    int Epoch,
    double TrainLoss,
    double? TrainAccuracy,
    double? TestLoss,
    double? TestAccuracy,
    double LearningRate,
    double GradientNorm,
    double Seconds,
    double SamplesPerSecond)
{
    public double? TestMse { get; init; }

    public double? TestMae { get; init; }

    public double? TestR2 { get; init; }
}

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
    Task EpochCompletedAsync(EpochResult result, CancellationToken cancellationToken);

    /// <summary>
    /// Called after every batch, on the training thread: keep it cheap (throttle, buffer).
    /// <paramref name="loss"/> is set on the batches chosen by <c>logEveryBatches</c>.
    /// </summary>
    void BatchCompleted(int epoch, int batch, int batchesPerEpoch, long step, float? loss);

    Task LogAsync(RunLogLevel level, string message, CancellationToken cancellationToken);
}
