namespace Experiments.Domain.Runs;

/// <summary>
/// One finished epoch of a run. Unique per (run, epoch): a resumed run replaces the epochs after its
/// checkpoint, it never duplicates them. Test metrics are null on epochs that were not evaluated
/// (<c>evaluateEvery</c> &gt; 1).
/// </summary>
public sealed record EpochMetric(
    Guid RunId,
    int Epoch,
    double TrainLoss,
    double TrainAccuracy,
    double? TestLoss,
    double? TestAccuracy,
    double LearningRate,
    double GradientNorm,
    double Seconds,
    double SamplesPerSecond);
