namespace Experiments.Training;

/// <summary>
/// Metrics of one finished epoch, on the training split and the test split: accuracies for classification;
/// for regression no accuracy, and the test split's mean squared error, mean absolute error and R².
/// </summary>
public sealed record EpochResult(
    int Epoch,
    double TrainLoss,
    double? TrainAccuracy,
    double TestLoss,
    double? TestAccuracy,
    double LearningRate,
    double Seconds)
{
    public double? TestMse { get; init; }

    public double? TestMae { get; init; }

    public double? TestR2 { get; init; }
}

/// <summary>How the trainer reports; the host persists and publishes what it hears.</summary>
public interface IRunObserver
{
    Task EpochCompletedAsync(EpochResult result, CancellationToken cancellationToken);

    Task LogAsync(string message, CancellationToken cancellationToken);
}
