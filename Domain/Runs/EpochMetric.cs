namespace Experiments.Domain.Runs;

/// <summary>
/// One finished epoch of a run, as the trainer reports it, the database stores it (keyed by run and epoch),
/// the API serves it and the dashboard receives it. Classification records accuracies; regression has none
/// and records the test split's mean squared error, mean absolute error and coefficient of determination
/// (R², averaged over target values) instead. Test metrics are null on epochs that were not evaluated
/// (<c>evaluateEvery</c> &gt; 1). A run that holds a validation split out also records its validation loss and accuracy on
/// the same epochs. A resumed run replaces the epochs after its checkpoint, it never duplicates them.
/// <see cref="GradientNorm"/> is the mean total 2-norm of the gradients over every 8th batch of the epoch (the 1st, 9th,
/// 17th, …), or over every batch when the run clips gradients.
/// </summary>
public sealed record EpochMetric(
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

    /// <summary>The loss on the validation split; null when the run holds none out, or on epochs that were not evaluated.</summary>
    public double? ValidationLoss { get; init; }

    /// <summary>The accuracy on the validation split (classification); null like <see cref="ValidationLoss"/>.</summary>
    public double? ValidationAccuracy { get; init; }
}
