using Experiments.Domain.Losses;
using Experiments.Domain.Optimizers;
using Experiments.Domain.Schedulers;

namespace Experiments.Domain.Runs;

/// <summary>
/// Everything a run needs, as the user sends it to <c>POST /api/runs</c>. A run stores the resolved
/// copy (every default filled in) so the exact configuration can be read back and repeated.
/// </summary>
public sealed record RunSpec
{
    public Guid DatasetId { get; init; }

    public Guid ModelId { get; init; }

    public OptimizerSpec? Optimizer { get; init; }

    public LossSpec? Loss { get; init; }

    /// <summary>Optional learning-rate schedule (with an optional linear warm-up); none keeps lr constant.</summary>
    public SchedulerSpec? Scheduler { get; init; }

    public int? Epochs { get; init; }

    public int? BatchSize { get; init; }

    public bool? Shuffle { get; init; }

    public long? Seed { get; init; }

    /// <summary>Stop as soon as test accuracy reaches this fraction (0..1]; classification only.</summary>
    public double? TargetAccuracy { get; init; }

    public TrainingDevice? Device { get; init; }
}
