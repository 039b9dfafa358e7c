namespace Experiments.Domain.Runs;

/// <summary>
/// One finished epoch of a run. Unique per (run, epoch): a resumed run replaces the epochs after its
/// checkpoint, it never duplicates them. Classification records accuracies; regression has none and records
/// the test split's mean squared error, mean absolute error and coefficient of determination (R², averaged
/// over target values) instead. Test metrics are null on epochs that were not evaluated (<c>evaluateEvery</c> &gt; 1).
/// </summary>
public sealed record EpochMetric(
    Guid RunId,
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

    /// <summary>The row that stores an epoch as the trainer reported it.</summary>
    public static EpochMetric From(Guid runId, EpochMetricView epoch) => new(
        runId, epoch.Epoch, epoch.TrainLoss, epoch.TrainAccuracy, epoch.TestLoss, epoch.TestAccuracy,
        epoch.LearningRate, epoch.GradientNorm, epoch.Seconds, epoch.SamplesPerSecond)
    {
        TestMse = epoch.TestMse,
        TestMae = epoch.TestMae,
        TestR2 = epoch.TestR2,
    };
}
