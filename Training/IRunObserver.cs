namespace Experiments.Training;

/// <summary>Metrics of one finished epoch, on the training split and the test split.</summary>
public sealed record EpochResult(
    int Epoch,
    double TrainLoss,
    double TrainAccuracy,
    double TestLoss,
    double TestAccuracy,
    double LearningRate,
    double Seconds);

/// <summary>How the trainer reports; the host persists and publishes what it hears.</summary>
public interface IRunObserver
{
    Task EpochCompletedAsync(EpochResult result, CancellationToken cancellationToken);

    Task LogAsync(string message, CancellationToken cancellationToken);
}
