using System.Text.Json;
using Experiments.Domain.Sweeps;

namespace Experiments.Web.Sweeps;

/// <summary>How the dashboard writes a sweep's values, scores and decisions.</summary>
public static class SweepText
{
    /// <summary>A searched field's value: numbers compact (<c>0.001</c>, <c>1E-05</c>, <c>16</c>), strings bare, anything else as compact JSON.</summary>
    public static string Value(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number => Format.Number(value.GetDouble()),
        JsonValueKind.String => value.GetString()!,
        _ => JsonSerializer.Serialize(value),
    };

    public static bool IsAccuracy(SweepMetric metric) => metric is SweepMetric.ValidationAccuracy or SweepMetric.TestAccuracy;

    /// <summary>A trial's score: accuracies as percentages, losses as numbers.</summary>
    public static string Score(SweepMetric metric, double? value) => IsAccuracy(metric) ? Format.Percent(value) : Format.Number(value);

    /// <summary>"validation accuracy, maximized".</summary>
    public static string Objective(SweepMetric metric, SweepGoal goal) =>
        $"{EarlyTermination.Describe(metric)}, {(goal == SweepGoal.Maximize ? "maximized" : "minimized")}";

    /// <summary>"asha at epoch 2: 0.6667 against a threshold of 0.8333 (4 trials)"; the full sentence is <see cref="TrialPruning.Reason"/>.</summary>
    public static string Pruning(TrialPruning pruning) =>
        $"{pruning.Rule} at epoch {pruning.Epoch}: {Format.Number(pruning.Value)} against a threshold of {Format.Number(pruning.Threshold)} ({pruning.Compared} trials)";

    /// <summary>"asha, η 2, from epoch 1", "median from epoch 1", "none".</summary>
    public static string EarlyStopping(EarlyTerminationSpec? rule) => rule?.Type switch
    {
        EarlyTerminationType.Asha => $"asha, η {rule.ReductionFactor}, from epoch {rule.MinEpochs}",
        EarlyTerminationType.Median => $"median from epoch {rule.WarmupEpochs}",
        _ => "none",
    };
}
