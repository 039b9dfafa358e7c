using System.Globalization;
using Experiments.Domain.Losses;
using Experiments.Domain.Models;

namespace Experiments.Domain.Runs;

/// <summary>
/// Answer of <c>POST /api/runs/preflight</c>: what a run spec would do, measured on its data and device before anything
/// is queued. Nothing of it is stored.
/// </summary>
/// <param name="Spec">The spec as the run would store it: defaults filled in, the seed chosen when none was sent.</param>
/// <param name="Device">The device the checks ran on (the run's, as <c>device</c> resolves on this process).</param>
/// <param name="Model">The layer table (output shape, parameters and forward FLOPs per sample of every layer), the totals and the memory estimate at the run's batch size.</param>
/// <param name="Timing">Time per batch, epoch and evaluation, from real batches, and so the run's ETA.</param>
/// <param name="InitialLoss">The loss of the run's first batch at initialisation, against the value expected.</param>
/// <param name="Gradients">Every parameter tensor's gradient on the first batch.</param>
/// <param name="Data">Class balance and label distribution per split, samples shared between splits, constant features.</param>
/// <param name="Overfit">Training one batch for <c>overfitSteps</c> steps, when asked for.</param>
/// <param name="Warnings">Every problem found, as a sentence that says what to fix; empty when nothing looks wrong.</param>
public sealed record PreflightReport(
    RunSpec Spec,
    string Device,
    ModelValidation Model,
    PreflightTiming Timing,
    InitialLoss InitialLoss,
    IReadOnlyList<ParameterGradient> Gradients,
    DataChecks Data,
    OverfitCheck? Overfit,
    IReadOnlyList<string> Warnings);

/// <param name="TimedBatches">Training batches timed (forward, backward and step), after one warm-up batch that is not counted.</param>
/// <param name="SecondsPerBatch">Their mean duration.</param>
/// <param name="SamplesPerSecond">Training samples per second at the run's batch size.</param>
/// <param name="BatchesPerEpoch">Batches in one epoch of the training split (less the validation split, when held out).</param>
/// <param name="SecondsPerEpoch">One epoch's training, without evaluation.</param>
/// <param name="SecondsPerEvaluation">One evaluation: the validation split (when held out) and the test split, timed on up to a few batches.</param>
/// <param name="Evaluations">How many evaluations the run makes over its epochs (evaluateEvery, the last epoch, reduceLROnPlateau).</param>
/// <param name="EstimatedSeconds">The run's ETA: its epochs and evaluations; less when a target accuracy stops it early.</param>
/// <param name="Threads">CPU threads TorchSharp used for the timing.</param>
public sealed record PreflightTiming(
    int TimedBatches,
    double SecondsPerBatch,
    double SamplesPerSecond,
    int BatchesPerEpoch,
    double SecondsPerEpoch,
    double SecondsPerEvaluation,
    int Evaluations,
    double EstimatedSeconds,
    int Threads);

/// <param name="Value">The mean loss of the run's first batch, before any step.</param>
/// <param name="Expected">
/// The loss expected at initialisation, when one is well-defined: ln C for crossEntropy and nll over C classes (a fresh
/// classifier's outputs are near-uniform, and uniform predictions cost ln C whatever the classes' balance); ln 2 for
/// bceWithLogits without posWeight. Null for the other losses.
/// </param>
/// <param name="Assumption">What <see cref="Expected"/> assumes, in words.</param>
/// <param name="LabelEntropy">
/// Classification: the entropy (in nats) of the training split's class distribution, the loss of always predicting the
/// class frequencies. It equals ln C for balanced classes; for imbalanced ones it is lower, and it is where a last layer
/// whose bias starts at the log class frequencies would start.
/// </param>
/// <param name="Deviation">Value / Expected − 1 (0.1 is 10 % above).</param>
public sealed record InitialLoss(double Value, double? Expected, string? Assumption, double? LabelEntropy, double? Deviation)
{
    /// <summary>How far from <see cref="Expected"/> the first loss may be before pre-flight warns.</summary>
    public const double Tolerance = 0.25;

    /// <summary>The first batch's <paramref name="value"/> under <paramref name="loss"/>, with the training split's class counts (empty for regression).</summary>
    public static InitialLoss Of(double value, LossSpec loss, IReadOnlyList<int> classCounts)
    {
        var classes = classCounts.Count;
        var entropy = classes > 0 ? Entropy(classCounts) : (double?)null;
        var (expected, assumption) = loss.Type switch
        {
            "crossEntropy" or "nll" when classes > 1 => (Math.Log(classes), string.Create(CultureInfo.InvariantCulture,
                $"ln {classes}: the loss of uniform predictions over {classes} classes, which a freshly initialised classifier's near-zero outputs give whatever the classes' balance")),
            "bceWithLogits" when !loss.Has("posWeight") => (Math.Log(2), "ln 2: the loss of logits near zero, a probability of one half for every label"),
            _ => ((double?)null, (string?)null),
        };
        return new InitialLoss(value, expected, assumption, entropy, expected is { } e && double.IsFinite(value) ? value / e - 1 : null);
    }

    /// <summary>−Σ p ln p of the class frequencies, in nats.</summary>
    private static double Entropy(IReadOnlyList<int> counts)
    {
        double total = counts.Sum(count => (long)count);
        return total == 0 ? 0 : -counts.Where(count => count > 0).Sum(count => count / total * Math.Log(count / total));
    }
}

/// <summary>How a parameter tensor's gradient looked after the first batch's backward pass.</summary>
public enum GradientState
{
    /// <summary>Finite and not all zero.</summary>
    Flowing,

    /// <summary>No gradient at all: the loss does not depend on the tensor.</summary>
    None,

    /// <summary>A gradient of zeros: something after the layer stops the gradient.</summary>
    Zero,

    /// <summary>NaN or infinite values.</summary>
    NonFinite,
}

/// <param name="Name">The parameter by the spec's layer path, e.g. <c>layers[2].weight</c> or <c>layers[3].layers[0].bias</c>.</param>
/// <param name="Shape">The tensor's shape.</param>
/// <param name="Norm">The gradient's L2 norm; 0 without a gradient, null when it is not finite.</param>
/// <param name="State">Whether the gradient flows.</param>
public sealed record ParameterGradient(string Name, long[] Shape, double? Norm, GradientState State);

/// <param name="Splits">Per split (train, validation when held out, test): samples and label distribution.</param>
/// <param name="Duplicates">Per evaluation split: its samples whose features are exactly those of a training sample.</param>
/// <param name="ConstantFeatures">Features with one value across the training split.</param>
public sealed record DataChecks(IReadOnlyList<SplitLabels> Splits, IReadOnlyList<SplitDuplicates> Duplicates, ConstantFeatures ConstantFeatures)
{
    /// <summary>A training split whose largest class has this many times the samples of its smallest is badly imbalanced.</summary>
    public const double ImbalanceWarningRatio = 10;

    /// <summary>Examples of duplicates and constant features listed, at most.</summary>
    public const int MaxExamples = 10;
}

/// <param name="Split">train, validation or test.</param>
/// <param name="Samples">Samples in the split.</param>
/// <param name="ClassCounts">Classification: samples per class, in class order; empty for regression.</param>
/// <param name="ImbalanceRatio">Classification: the largest class's count over the smallest's, among classes present; null with fewer than two present.</param>
/// <param name="TargetMean">Regression: the mean of the target values.</param>
/// <param name="TargetStd">Regression: their standard deviation.</param>
public sealed record SplitLabels(string Split, int Samples, int[] ClassCounts, double? ImbalanceRatio, double? TargetMean, double? TargetStd);

/// <param name="Split">validation or test.</param>
/// <param name="Count">Samples of the split whose feature bytes equal those of a sample the run trains on.</param>
/// <param name="Examples">A few of them: the index in the split and the index of the equal sample in the dataset's training split.</param>
public sealed record SplitDuplicates(string Split, int Count, IReadOnlyList<DuplicatePair> Examples);

/// <param name="Index">The sample's index in its split as the dataset preview counts; a validation sample's index in the dataset's training split, which it is held out of.</param>
/// <param name="TrainIndex">The index of the equal sample in the dataset's training split.</param>
public sealed record DuplicatePair(int Index, int TrainIndex);

/// <param name="Count">Features (flat indices into one sample) whose value is the same in every training sample.</param>
/// <param name="Features">Features per sample.</param>
/// <param name="First">The first of them, at most <see cref="DataChecks.MaxExamples"/>.</param>
public sealed record ConstantFeatures(int Count, long Features, long[] First);

/// <param name="Steps">Steps taken on the batch (fewer than asked when the time limit came first).</param>
/// <param name="BatchSize">Samples in the batch: the run's first batch.</param>
/// <param name="InitialLoss">The loss before the first step.</param>
/// <param name="FinalLoss">The loss after the last step.</param>
/// <param name="FinalAccuracy">Classification: accuracy on the batch after the last step.</param>
/// <param name="Curve">The loss at a few steps, the first and the last included (step 0 is before any step).</param>
/// <param name="Memorized">Whether the loss approached zero by <see cref="Criterion"/>.</param>
/// <param name="Criterion">The test applied, in words.</param>
public sealed record OverfitCheck(int Steps, int BatchSize, double InitialLoss, double FinalLoss, double? FinalAccuracy, IReadOnlyList<LossPoint> Curve, bool Memorized, string Criterion)
{
    /// <summary>The final loss below this fraction of the initial one counts as memorised.</summary>
    public const double LossFraction = 0.05;
}

public sealed record LossPoint(int Step, double Loss);

/// <summary>
/// Answer of <c>POST /api/runs/lr-range-test</c>: the loss of training batches while the learning rate grows
/// exponentially from <see cref="MinLr"/> to <see cref="MaxLr"/>, one step each, and the learning rate it suggests.
/// </summary>
/// <param name="Spec">The spec as the run would store it (the seed chosen when none was sent).</param>
/// <param name="Device">The device the sweep ran on.</param>
/// <param name="MinLr">The first learning rate.</param>
/// <param name="MaxLr">The last learning rate, reached when the sweep is not stopped early.</param>
/// <param name="Steps">Steps asked for.</param>
/// <param name="LearningRates">The learning rate of each step taken.</param>
/// <param name="Losses">The loss of each step taken, before its update.</param>
/// <param name="SmoothedLosses">
/// The losses smoothed by a bias-corrected exponential moving average (β = <see cref="Smoothing"/>) run forward and then
/// backward, so that the curve does not trail the losses; the suggestion is read from it. (While sweeping, the forward
/// average alone decides when the loss explodes.)
/// </param>
/// <param name="Smoothing">β of the average: 1 − 10 / steps, so that it spans about a tenth of the sweep whatever its length (0.9 for 100 steps).</param>
/// <param name="SuggestedLr">The suggestion: the steepest descent of the smoothed loss before its minimum; null when the loss never fell.</param>
/// <param name="SuggestedStep">The index of <see cref="SuggestedLr"/> in <see cref="LearningRates"/>.</param>
/// <param name="MinimumLr">The learning rate where the smoothed loss was lowest: the suggestion is never above it.</param>
/// <param name="Method">How the suggestion was chosen, in words.</param>
/// <param name="StoppedEarly">Why the sweep ended before <see cref="MaxLr"/>, or null.</param>
/// <param name="Warnings">What makes the suggestion doubtful, as sentences that say what to change.</param>
public sealed record LearningRateRangeTestResult(
    RunSpec Spec,
    string Device,
    double MinLr,
    double MaxLr,
    int Steps,
    IReadOnlyList<double> LearningRates,
    IReadOnlyList<double> Losses,
    IReadOnlyList<double> SmoothedLosses,
    double Smoothing,
    double? SuggestedLr,
    int? SuggestedStep,
    double? MinimumLr,
    string Method,
    string? StoppedEarly,
    IReadOnlyList<string> Warnings)
{
    public const double DefaultMinLr = 1e-8;
    public const double DefaultMaxLr = 1;
    public const int DefaultSteps = 100;
    public const int MinSteps = 10;
    public const int MaxSteps = 1000;

    /// <summary>
    /// β of the smoothed loss for a sweep of <paramref name="steps"/>: the average spans about a tenth of the sweep. fastai's
    /// and Lightning's fixed 0.98 spans 50 steps, half of their default 100-step sweep, and flattens a short sweep to nothing.
    /// </summary>
    public static double SmoothingFor(int steps) => Math.Max(0, 1 - 10.0 / steps);

    /// <summary>The sweep stops when the running smoothed loss exceeds this many times its best so far.</summary>
    public const double ExplosionFactor = 4;
}
