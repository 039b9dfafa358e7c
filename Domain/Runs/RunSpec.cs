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

    /// <summary>
    /// Stop as soon as accuracy reaches this fraction (0..1]; classification only. Measured on the validation split when the
    /// run holds one out (<see cref="ValidationFraction"/>), else on the test split.
    /// </summary>
    public double? TargetAccuracy { get; init; }

    public TrainingDevice? Device { get; init; }

    /// <summary>
    /// Hold this fraction of the training split out for validation (stratified by class, drawn with the run's seed), e.g. 0.1.
    /// With it, the target accuracy, the best epoch, reduceLROnPlateau and the best weights use validation, and the test split
    /// is still evaluated and reported. Without it, they use the test split.
    /// </summary>
    public double? ValidationFraction { get; init; }

    /// <summary>Clip the gradients' total L2 norm to this value before each step (torch.nn.utils.clip_grad_norm_).</summary>
    public double? GradientClipNorm { get; init; }

    /// <summary>Evaluate on the test split every this many epochs (and always after the last one). Default 1.</summary>
    public int? EvaluateEvery { get; init; }

    /// <summary>Record the training loss every this many batches (log, batch series, live progress). Off when absent.</summary>
    public int? LogEveryBatches { get; init; }

    /// <summary>CPU threads for TorchSharp's operators. Default: what libtorch chooses for this machine.</summary>
    public int? Threads { get; init; }
}
