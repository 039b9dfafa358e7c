namespace Experiments.Domain.Runs;

/// <summary>One finished epoch of a run. Unique per (run, epoch): a replayed epoch replaces, never duplicates.</summary>
public sealed record EpochMetric(
    Guid RunId,
    int Epoch,
    double TrainLoss,
    double TrainAccuracy,
    double TestLoss,
    double TestAccuracy,
    double LearningRate,
    double Seconds);
