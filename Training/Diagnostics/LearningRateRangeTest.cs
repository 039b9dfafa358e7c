using System.Globalization;
using Experiments.Domain.Runs;
using Experiments.Training.Data;
using Experiments.Training.Runtime;
using static TorchSharp.torch;

namespace Experiments.Training.Diagnostics;

/// <summary>
/// The learning-rate range test (Smith 2017, as fastai's and Lightning's lr finders run it): a fresh copy of the run's
/// model trains on the run's batches with its optimizer while the learning rate grows exponentially from a minimum to a
/// maximum, one step each; the sweep stops when the loss explodes. The suggestion is read from the smoothed loss.
/// </summary>
public static class LearningRateRangeTest
{
    /// <param name="inputs">The resolved spec and model.</param>
    /// <param name="data">The dataset as read; its validation split (when the spec holds one out) is held out first.</param>
    /// <param name="minLr">The first learning rate, greater than 0.</param>
    /// <param name="maxLr">The last learning rate, greater than <paramref name="minLr"/>.</param>
    /// <param name="steps">Steps of the sweep, at least 2.</param>
    /// <param name="limit">The most time the sweep takes; it stops early when it comes.</param>
    /// <param name="cancellationToken">Stops the sweep between steps.</param>
    public static LearningRateRangeTestResult Run(
        DiagnosticInputs inputs, LoadedDataset data, double minLr, double maxLr, int steps, TimeSpan limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 2);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(minLr, 0);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(maxLr, minLr);
        var budget = new Budget(limit);
        var plan = inputs.Plan;
        var device = TorchRuntime.Resolve(plan.Device);
        var held = data.HoldOut(inputs.Spec.ValidationFraction, plan.Seed);
        using var train = TensorSplit.From(held.Train, held.StoredShape, held.Preprocessing, device);
        using var fresh = new FreshModel(plan, train, held.Train.Kind, device);

        var rates = new List<double>(steps);
        var losses = new List<double>(steps);
        var beta = LearningRateRangeTestResult.SmoothingFor(steps);
        var average = 0.0;
        var best = double.PositiveInfinity;
        string? stopped = null;
        for (var step = 0; step < steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (budget.Spent)
            {
                stopped = string.Create(CultureInfo.InvariantCulture, $"the time limit of {budget.Limit.TotalSeconds:0} s came after {step} steps");
                break;
            }
            var lr = minLr * Math.Pow(maxLr / minLr, step / (double)(steps - 1));
            foreach (var group in fresh.Optimizer.ParamGroups)
            {
                group.LearningRate = lr;
            }
            using var scope = NewDisposeScope();
            var (batchInputs, batchTargets) = fresh.NextBatch();
            var loss = fresh.Step(batchInputs, batchTargets);
            if (!double.IsFinite(loss))
            {
                stopped = string.Create(CultureInfo.InvariantCulture, $"the loss became {(double.IsNaN(loss) ? "NaN" : "infinite")} at lr {lr:G3} (step {step})");
                break;
            }
            // The running (causal) average is all there is while sweeping: it decides when the loss explodes.
            average = beta * average + (1 - beta) * loss;
            var smooth = average / (1 - Math.Pow(beta, step + 1));
            rates.Add(lr);
            losses.Add(loss);
            best = Math.Min(best, smooth);
            if (step > 0 && smooth > LearningRateRangeTestResult.ExplosionFactor * best)
            {
                stopped = string.Create(CultureInfo.InvariantCulture,
                    $"the smoothed loss {smooth:G4} exceeded {LearningRateRangeTestResult.ExplosionFactor:0} times its best ({best:G4}) at lr {lr:G3} (step {step})");
                break;
            }
        }
        var smoothed = Smooth(losses, beta);
        var suggestion = Suggest(rates, smoothed, steps);
        return new LearningRateRangeTestResult(inputs.Spec, device.type.ToString().ToLowerInvariant(), minLr, maxLr, steps, rates, losses, smoothed, beta,
            suggestion.Step is { } at ? rates[at] : null, suggestion.Step, suggestion.Minimum is { } minimum ? rates[minimum] : null, suggestion.Method, stopped,
            suggestion.Warnings);
    }

    /// <summary>
    /// The losses smoothed without lag: the bias-corrected exponential moving average of <paramref name="beta"/> run forward,
    /// then run backward over that. A forward average alone trails the loss by about β / (1 − β) steps, which would move the
    /// suggestion towards the explosion (Lightning's 0.98 trails by 49 steps: four decades of a 100-step sweep from 1e-8 to 1).
    /// </summary>
    public static List<double> Smooth(IReadOnlyList<double> losses, double beta)
    {
        var forward = Average(losses, beta);
        forward.Reverse();
        var both = Average(forward, beta);
        both.Reverse();
        return both;
    }

    private static List<double> Average(IReadOnlyList<double> values, double beta)
    {
        var smoothed = new List<double>(values.Count);
        var average = 0.0;
        for (var index = 0; index < values.Count; index++)
        {
            average = beta * average + (1 - beta) * values[index];
            smoothed.Add(average / (1 - Math.Pow(beta, index + 1)));
        }
        return smoothed;
    }

    /// <summary>What the sweep suggests: the step, the step of the smoothed loss's minimum, how, and what makes it doubtful.</summary>
    public sealed record Suggestion(int? Step, int? Minimum, string Method, IReadOnlyList<string> Warnings);

    /// <summary>
    /// The steepest descent of the smoothed loss against log(lr), among the steps from a tenth of the sweep (the first steps,
    /// where early spikes and the smoothing's warm-up live, are skipped: Lightning#1767) up to the smoothed loss's minimum,
    /// so never above the learning rate at the minimum. Without a descent there, the minimum's learning rate over ten
    /// (fastai's rule of thumb); none when the loss never fell.
    /// </summary>
    /// <param name="rates">The learning rate of each step taken.</param>
    /// <param name="smoothed">The smoothed loss of each step taken.</param>
    /// <param name="steps">Steps asked for: the skipped beginning is a tenth of them.</param>
    public static Suggestion Suggest(IReadOnlyList<double> rates, IReadOnlyList<double> smoothed, int steps)
    {
        var skip = Math.Max(1, steps / 10);
        if (smoothed.Count <= skip + 2)
        {
            return new Suggestion(null, null, "none: the sweep stopped before it could be read",
                [string.Create(CultureInfo.InvariantCulture, $"The sweep took {smoothed.Count} steps before it stopped; lower minLr or maxLr, or check the data, so that the loss stays finite for more than {skip + 2} steps.")]);
        }
        var minimum = skip;
        for (var step = skip; step < smoothed.Count; step++)
        {
            if (smoothed[step] < smoothed[minimum])
            {
                minimum = step;
            }
        }
        var start = smoothed[skip];
        if (smoothed[minimum] >= start * 0.99)
        {
            return new Suggestion(null, minimum, "none: the smoothed loss never fell below its value after the first steps",
                ["The loss did not fall anywhere in the sweep: widen it (a larger maxLr, or a smaller minLr), or check that the model can learn the data (POST /api/runs/preflight?overfitSteps=100)."]);
        }
        int? steepest = null;
        var slope = 0.0;
        for (var step = skip; step <= Math.Min(minimum, smoothed.Count - 2); step++)
        {
            var before = Math.Max(step - 1, 0);
            var gradient = (smoothed[step + 1] - smoothed[before]) / (Math.Log10(rates[step + 1]) - Math.Log10(rates[before]));
            if (gradient < slope)
            {
                (steepest, slope) = (step, gradient);
            }
        }
        var warnings = new List<string>();
        if (minimum == smoothed.Count - 1)
        {
            warnings.Add("The loss was still falling at the end of the sweep: the suggestion may be too low; run it again with a larger maxLr.");
        }
        if (steepest is { } found && found < minimum)
        {
            return new Suggestion(found, minimum, string.Create(CultureInfo.InvariantCulture,
                $"steepest descent of the smoothed loss against log10(lr) among steps {skip} to {minimum}: after the first {skip} steps, ")
                + "and not above the lr where the smoothed loss is lowest", warnings);
        }
        var fallback = FirstAtOrBelow(rates, rates[minimum] / 10);
        return new Suggestion(fallback, minimum, "the lr at the smoothed loss's minimum over ten: the loss fell too briefly to find its steepest descent", warnings);
    }

    /// <summary>The last step whose learning rate is at most <paramref name="lr"/>, else the first.</summary>
    private static int FirstAtOrBelow(IReadOnlyList<double> rates, double lr)
    {
        var found = 0;
        for (var step = 0; step < rates.Count && rates[step] <= lr; step++)
        {
            found = step;
        }
        return found;
    }
}
