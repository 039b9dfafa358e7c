using Experiments.Domain.Losses;
using Experiments.Domain.Models;
using Experiments.Domain.Optimizers;
using Experiments.Domain.Runs;
using Experiments.Domain.Schedulers;
using Experiments.Training.Metrics;

namespace Experiments.Training;

/// <summary>A resolved, checked description of one training run: what <see cref="Trainer"/> executes.</summary>
public sealed record TrainingPlan(
    IReadOnlyList<LayerSpec> Layers,
    ModelSummary Summary,
    OptimizerSpec Optimizer,
    LossSpec Loss,
    int Epochs,
    int BatchSize,
    bool Shuffle,
    long Seed,
    double? TargetAccuracy,
    TrainingDevice Device,
    SchedulerSpec? Scheduler = null)
{
    public double? GradientClipNorm { get; init; }

    public int EvaluateEvery { get; init; } = 1;

    public int? LogEveryBatches { get; init; }

    /// <summary>Record a <see cref="LayerSnapshot"/> every <c>Every</c> steps (resolved: every default filled in); none when null.</summary>
    public WatchSpec? Watch { get; init; }

    /// <summary>Check every batch's layer outputs and gradients, and fail naming the layer where a NaN or infinity first appeared.</summary>
    public bool DetectAnomaly { get; init; }

    /// <summary>libtorch's intra-op threads for this run's training thread; null leaves libtorch's default.</summary>
    public int? TorchThreads { get; init; }

    /// <summary>Where the checkpoint of the last finished epoch is kept; a run resumes from it when it exists.</summary>
    public string? CheckpointPath { get; init; }

    /// <summary>Where the final weights are written when training ends.</summary>
    public string? WeightsPath { get; init; }

    /// <summary>
    /// Where the weights of the best epoch are kept (chosen on validation when the data holds a validation split, else on
    /// test; by accuracy for classifiers, by loss for regression), rewritten whenever an epoch improves on it.
    /// </summary>
    public string? BestWeightsPath { get; init; }

    /// <summary>The plan of a resolved run spec (<see cref="RunSpecValidator.Resolve"/>) for the model's resolved layers and shapes.</summary>
    public static TrainingPlan For(RunSpec spec, IReadOnlyList<LayerSpec> layers, ModelSummary summary) =>
        new(layers, summary, spec.Optimizer!, spec.Loss!, spec.Epochs!.Value, spec.BatchSize!.Value, spec.Shuffle!.Value, spec.Seed!.Value,
            spec.TargetAccuracy, spec.Device!.Value, spec.Scheduler)
        {
            GradientClipNorm = spec.GradientClipNorm,
            EvaluateEvery = spec.EvaluateEvery ?? 1,
            LogEveryBatches = spec.LogEveryBatches,
            Watch = spec.Watch,
            DetectAnomaly = spec.DetectAnomaly ?? false,
            TorchThreads = spec.Threads,
        };
}

/// <param name="Reason">Why training stopped.</param>
/// <param name="EpochsCompleted">The last epoch trained.</param>
/// <param name="Evaluation">The final evaluation of the test split, with the confusion matrix for classifiers.</param>
public sealed record TrainingOutcome(StopReason Reason, int EpochsCompleted, SplitMetrics? Evaluation);

/// <summary>Training cannot go on for a reason that a retry would meet again (NaN loss, bad data).</summary>
public sealed class TrainingFailedException(string message) : Exception(message);
