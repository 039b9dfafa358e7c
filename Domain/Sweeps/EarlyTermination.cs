using System.Globalization;

namespace Experiments.Domain.Sweeps;

/// <summary>Why a trial was stopped early: the rule, the epoch it was judged at, its value, the bar it missed and how many values set the bar.</summary>
/// <param name="Rule">asha or median.</param>
/// <param name="Epoch">The epoch it was judged at (an asha rung).</param>
/// <param name="Value">The trial's value there (median: its best so far).</param>
/// <param name="Threshold">The value it had to reach: the worst value kept at the rung (asha), the others' median (median).</param>
/// <param name="Compared">How many values the threshold was taken from (asha: this trial's included).</param>
/// <param name="Reason">The decision in words, as the run's log has it.</param>
public sealed record TrialPruning(string Rule, int Epoch, double Value, double Threshold, int Compared, string Reason);

/// <summary>
/// The early-termination rules, decided from stored epochs only, so any worker decides the same from the same rows. A
/// rule judges a trial only with enough values at the epoch (<see cref="EarlyTerminationSpec.MinTrials"/>): the first
/// trials of a sweep always run on, and no trial is stopped by a single comparison.
/// </summary>
public static class EarlyTermination
{
    /// <summary>The epochs a rule judges trials at: asha's rungs (min·η^k below the trial's epochs), median's every epoch from its warm-up.</summary>
    public static bool Judges(EarlyTerminationSpec rule, int epoch, int trialEpochs)
    {
        switch (rule.Type)
        {
            case EarlyTerminationType.Asha:
                return Rungs(rule, trialEpochs).Contains(epoch);
            case EarlyTerminationType.Median:
                return epoch >= rule.WarmupEpochs && epoch < trialEpochs;
            default:
                return false;
        }
    }

    /// <summary>asha's rungs for trials of <paramref name="trialEpochs"/> epochs: minEpochs, minEpochs·η, … while below it.</summary>
    public static IReadOnlyList<int> Rungs(EarlyTerminationSpec rule, int trialEpochs)
    {
        var rungs = new List<int>();
        if (rule.Type != EarlyTerminationType.Asha)
        {
            return rungs;
        }
        for (long rung = rule.MinEpochs!.Value; rung < trialEpochs; rung *= rule.ReductionFactor!.Value)
        {
            rungs.Add((int)rung);
        }
        return rungs;
    }

    /// <summary>
    /// Judges a trial at <paramref name="epoch"/>; null when it runs on.
    /// </summary>
    /// <param name="rule">The resolved rule.</param>
    /// <param name="metric">What the values are, for the reason's words.</param>
    /// <param name="goal">Which way is better.</param>
    /// <param name="epoch">The epoch judged.</param>
    /// <param name="value">The trial's value at the epoch.</param>
    /// <param name="bestSoFar">The trial's best value up to the epoch.</param>
    /// <param name="others">The other trials' values at the epoch (each trial that reached it, once).</param>
    public static TrialPruning? Judge(EarlyTerminationSpec rule, SweepMetric metric, SweepGoal goal, int epoch, double value, double bestSoFar, IReadOnlyList<double> others)
    {
        var name = Describe(metric);
        switch (rule.Type)
        {
            case EarlyTerminationType.Asha:
            {
                var count = others.Count + 1;
                if (count < rule.MinTrials)
                {
                    return null;
                }
                var reduction = rule.ReductionFactor!.Value;
                var kept = Math.Max(1, count / reduction);
                var ranked = (goal == SweepGoal.Maximize ? others.Append(value).OrderByDescending(v => v) : others.Append(value).OrderBy(v => v)).ToList();
                var threshold = ranked[kept - 1];
                if (!Worse(value, threshold, goal))
                {
                    return null;
                }
                return new TrialPruning("asha", epoch, value, threshold, count, string.Create(CultureInfo.InvariantCulture,
                    $"pruned by asha at rung {epoch}: {name} {value:G4} is not among the best {kept} of the {count} trials that reached epoch {epoch} "
                    + $"(1/{reduction} of them, {(goal == SweepGoal.Maximize ? "at least" : "at most")} {threshold:G4})"));
            }
            case EarlyTerminationType.Median:
            {
                if (others.Count < rule.MinTrials)
                {
                    return null;
                }
                var median = Median(others);
                if (!Worse(bestSoFar, median, goal))
                {
                    return null;
                }
                return new TrialPruning("median", epoch, bestSoFar, median, others.Count, string.Create(CultureInfo.InvariantCulture,
                    $"pruned by median at epoch {epoch}: the best {name} so far, {bestSoFar:G4}, is worse than the median {median:G4} of the {others.Count} other trials at epoch {epoch}"));
            }
            default:
                return null;
        }
    }

    public static bool Worse(double value, double than, SweepGoal goal) => goal == SweepGoal.Maximize ? value < than : value > than;

    public static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    /// <summary>"validation accuracy".</summary>
    public static string Describe(SweepMetric metric) => metric switch
    {
        SweepMetric.ValidationAccuracy => "validation accuracy",
        SweepMetric.ValidationLoss => "validation loss",
        SweepMetric.TestAccuracy => "test accuracy",
        _ => "test loss",
    };
}
