using System.Diagnostics;
using System.Globalization;
using Experiments.Domain.Models;
using Experiments.Domain.Runs;
using Experiments.Training.Data;
using Experiments.Training.Evaluation;
using Experiments.Training.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Experiments.Training.Diagnostics;

/// <summary>
/// Checks a run before it is queued, on its data and device, in seconds: the data (<see cref="DataCheck"/>); the first
/// batch's loss and every parameter's gradient on a fresh model with the run's initial weights; the time of a few real
/// training batches and of evaluation, and so the run's ETA; optionally, whether the model can memorise one batch.
/// </summary>
public static class Preflight
{
    /// <summary>Training batches timed after the warm-up batch, at most.</summary>
    public const int MaxTimedBatches = 10;

    /// <summary>Evaluation batches timed, at most.</summary>
    public const int MaxEvaluationBatches = 5;

    /// <summary>Timing stops once its batches took this long (one batch is always timed).</summary>
    public static readonly TimeSpan TimingBudget = TimeSpan.FromSeconds(3);

    /// <summary>Points of the overfit check's loss curve, at most.</summary>
    public const int CurvePoints = 21;

    /// <param name="inputs">The resolved spec and model.</param>
    /// <param name="data">The dataset as read, before its validation split is held out.</param>
    /// <param name="overfitSteps">Steps of the overfit-one-batch check; 0 leaves it out.</param>
    /// <param name="limit">The most time the whole check takes; the overfit check stops early when it comes.</param>
    /// <param name="cancellationToken">Stops the check between batches.</param>
    public static PreflightReport Run(DiagnosticInputs inputs, LoadedDataset data, int overfitSteps, TimeSpan limit, CancellationToken cancellationToken)
    {
        var budget = new Budget(limit);
        var spec = inputs.Spec;
        var plan = inputs.Plan;
        var device = TorchRuntime.Resolve(plan.Device);
        var rows = spec.ValidationFraction is { } fraction ? ValidationSplit.Rows(data.Train, fraction, plan.Seed) : ((int[], int[])?)null;
        var checks = DataCheck.Of(data, rows);
        cancellationToken.ThrowIfCancellationRequested();

        var held = data.HoldOut(spec.ValidationFraction, plan.Seed);
        using var train = TensorSplit.From(held.Train, held.StoredShape, held.Preprocessing, device);
        var targets = held.Train.Kind;

        InitialLoss initial;
        List<ParameterGradient> gradients;
        PreflightTiming timing;
        using (var fresh = new FreshModel(plan, train, targets, device))
        {
            (initial, gradients) = FirstBatch(fresh, plan.Loss, checks.Splits[0].ClassCounts);
            cancellationToken.ThrowIfCancellationRequested();
            timing = Time(fresh, plan, held, device, cancellationToken);
        }
        var overfit = overfitSteps > 0 ? Overfit(plan, train, targets, device, overfitSteps, budget, cancellationToken) : null;
        return new PreflightReport(spec, device.type.ToString().ToLowerInvariant(), ModelValidation.From(plan.Summary, plan.BatchSize), timing, initial,
            gradients, checks, overfit, PreflightWarnings.For(initial, gradients, checks, overfit, inputs.ClassNames));
    }

    /// <summary>The run's first batch on its initial weights: the loss, and each parameter's gradient; then the step (the warm-up of the timing).</summary>
    private static (InitialLoss Loss, List<ParameterGradient> Gradients) FirstBatch(FreshModel fresh, Domain.Losses.LossSpec lossSpec, int[] classCounts)
    {
        using var scope = NewDisposeScope();
        var (inputs, targets) = fresh.NextBatch();
        var loss = fresh.Backward(inputs, targets);
        var initial = InitialLoss.Of(loss.item<float>(), lossSpec, classCounts);
        var gradients = fresh.Model.named_parameters().Select(pair => Gradient(pair.name, pair.parameter)).ToList();
        fresh.Optimizer.step();
        return (initial, gradients);
    }

    private static ParameterGradient Gradient(string name, Parameter parameter)
    {
        var path = ParameterNames.ToSpecPath(name);
        if (parameter.grad is not { } gradient)
        {
            return new ParameterGradient(path, parameter.shape, 0, GradientState.None);
        }
        using var norm = gradient.detach().to(ScalarType.Float64).norm();
        var value = norm.item<double>();
        var state = !double.IsFinite(value) ? GradientState.NonFinite : value == 0 ? GradientState.Zero : GradientState.Flowing;
        return new ParameterGradient(path, parameter.shape, double.IsFinite(value) ? value : null, state);
    }

    /// <summary>
    /// Times training batches after the first (forward, backward and step, each read back so that the device has finished),
    /// then evaluation in eval mode on the first batches of the test split (else the validation split), after one untimed batch.
    /// </summary>
    private static PreflightTiming Time(FreshModel fresh, TrainingPlan plan, LoadedDataset held, Device device, CancellationToken cancellationToken)
    {
        var timed = 0;
        var spent = TimeSpan.Zero;
        while (timed < MaxTimedBatches && (timed == 0 || spent < TimingBudget))
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var (inputs, targets) = fresh.NextBatch();
            var started = Stopwatch.GetTimestamp();
            fresh.Step(inputs, targets);
            spent += Stopwatch.GetElapsedTime(started);
            timed++;
        }
        var perBatch = spent.TotalSeconds / timed;
        var batchesPerEpoch = (int)fresh.BatchesPerEpoch;

        var evaluated = held.Test.Count > 0 ? held.Test : held.Validation;
        var evaluationSamples = held.Test.Count + (held.Validation?.Count ?? 0);
        var perSample = 0.0;
        if (evaluated is { Count: > 0 })
        {
            using var warmUp = TensorSplit.From(evaluated.Take([.. Enumerable.Range(0, Math.Min(plan.BatchSize, evaluated.Count))]), held.StoredShape, held.Preprocessing, device);
            Evaluator.Evaluate(fresh.Model, fresh.Loss, warmUp, plan.BatchSize, evaluated.Kind);
            var count = (int)Math.Min((long)plan.BatchSize * MaxEvaluationBatches, evaluated.Count);
            using var sample = TensorSplit.From(evaluated.Take([.. Enumerable.Range(0, count)]), held.StoredShape, held.Preprocessing, device);
            var started = Stopwatch.GetTimestamp();
            Evaluator.Evaluate(fresh.Model, fresh.Loss, sample, plan.BatchSize, evaluated.Kind);
            perSample = Stopwatch.GetElapsedTime(started).TotalSeconds / count;
            fresh.Model.train();
        }
        var perEpoch = perBatch * batchesPerEpoch;
        var perEvaluation = perSample * evaluationSamples;
        var evaluations = EvaluationSchedule.Count(plan.Epochs, plan.EvaluateEvery, plan.Scheduler);
        return new PreflightTiming(timed, perBatch, plan.BatchSize / Math.Max(perBatch, 1e-12), batchesPerEpoch, perEpoch, perEvaluation, evaluations,
            plan.Epochs * perEpoch + evaluations * perEvaluation, TorchSharp.torch.get_num_threads());
    }

    /// <summary>
    /// Trains a fresh copy on the run's first batch alone, with the run's optimizer and learning rate (no scheduler), and
    /// measures the batch again in eval mode after the last step.
    /// </summary>
    private static OverfitCheck Overfit(TrainingPlan plan, TensorSplit train, TargetKind targets, Device device, int steps, Budget budget, CancellationToken cancellationToken)
    {
        using var fresh = new FreshModel(plan, train, targets, device);
        var (inputs, batchTargets) = fresh.NextBatch();
        using var disposeInputs = inputs;
        using var disposeTargets = batchTargets;
        var losses = new List<double>(steps);
        while (losses.Count < steps && !budget.Spent)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var loss = fresh.Step(inputs, batchTargets);
            losses.Add(loss);
            if (!double.IsFinite(loss))
            {
                break;
            }
        }
        double finalLoss;
        double? accuracy = null;
        using (var scope = NewDisposeScope())
        {
            fresh.Model.eval();
            using var noGrad = no_grad();
            var outputs = fresh.Model.forward(inputs);
            finalLoss = fresh.Loss(outputs, batchTargets).item<float>();
            if (targets == TargetKind.ClassIndex)
            {
                accuracy = outputs.argmax(1).eq(batchTargets).to(ScalarType.Float64).mean().item<double>();
            }
        }
        var initial = losses[0];
        var memorized = double.IsFinite(finalLoss) && (finalLoss < OverfitCheck.LossFraction * initial || accuracy == 1);
        var every = Math.Max(1, (int)Math.Ceiling(losses.Count / (double)(CurvePoints - 1)));
        var curve = losses.Select((loss, step) => new LossPoint(step, loss)).Where(point => point.Step % every == 0).ToList();
        curve.Add(new LossPoint(losses.Count, finalLoss));
        var criterion = string.Create(CultureInfo.InvariantCulture, $"final loss below {OverfitCheck.LossFraction:P0} of the initial")
            + (targets == TargetKind.ClassIndex ? ", or every sample of the batch classified correctly" : "");
        return new OverfitCheck(losses.Count, (int)inputs.shape[0], initial, finalLoss, accuracy, curve, memorized, criterion);
    }
}
