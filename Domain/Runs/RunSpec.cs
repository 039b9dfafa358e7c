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

    /// <summary>
    /// Watch the inside of the run, e.g. <c>{"every": 50, "bins": 32}</c>: every <c>every</c> batches (counted across the run), the
    /// weight and gradient norms, update ratio and histograms of every parameter tensor and the output statistics of every layer
    /// (mean, standard deviation, dead or saturated fraction), served by <c>GET /api/runs/{id}/layers</c> and pushed live. Off when
    /// absent. Costs a few percent at every 50 (docs/benchmarks.md).
    /// </summary>
    public WatchSpec? Watch { get; init; }

    /// <summary>
    /// Check every batch's layer outputs, loss and gradients for NaN and infinity, and fail the run at the first with the layer
    /// where it appeared ("activation of layers[3] (linear) became infinite at epoch 2, batch 17"). It reads values back from
    /// the device at every batch, which slows training (more on a GPU); without it a non-finite loss or gradient norm still
    /// fails the run, naming the batch only.
    /// </summary>
    public bool? DetectAnomaly { get; init; }

    /// <summary>CPU threads for TorchSharp's operators. Default: what libtorch chooses for this machine.</summary>
    public int? Threads { get; init; }
}
