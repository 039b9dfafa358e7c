using Experiments.Domain.Losses;
using Experiments.Domain.Models;
using Experiments.Domain.Optimizers;
using Experiments.Domain.Runs;
using Experiments.Domain.Schedulers;

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
    SchedulerSpec? Scheduler = null);

public sealed record TrainingOutcome(StopReason Reason, int EpochsCompleted);

/// <summary>Training cannot go on for a reason that a retry would meet again (NaN loss, bad data).</summary>
public sealed class TrainingFailedException(string message) : Exception(message);
