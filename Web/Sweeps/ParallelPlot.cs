using System.Text.Json;
using Experiments.Domain.Sweeps;

namespace Experiments.Web.Sweeps;

/// <summary>
/// One axis of a parallel-coordinates plot: where each plotted trial lies on it, the axis's range, and its ticks when
/// plotly's own would not do (categories, logarithms).
/// </summary>
public sealed record ParallelAxis(
    string Label,
    IReadOnlyList<double> Values,
    double Min,
    double Max,
    IReadOnlyList<double>? TickValues = null,
    IReadOnlyList<string>? TickTexts = null,
    string? TickFormat = null);

/// <summary>
/// A sweep's scored trials as a parallel-coordinates plot: an axis per searched field, then the metric; a line per trial,
/// coloured by its score. <see cref="LowerIsBetter"/> turns the colour scale round so that the best trials look alike
/// whichever the goal.
/// </summary>
public sealed record ParallelPlot(IReadOnlyList<ParallelAxis> Axes, IReadOnlyList<double> Scores, IReadOnlyList<int> Trials, string Metric, bool LowerIsBetter)
{
    /// <summary>Where a trial that does not search a field (a sub-space it did not choose) lies on that field's axis.</summary>
    public const string NotSearched = "–";

    public static ParallelPlot Of(SweepView sweep, IReadOnlyList<SearchDimension> fields)
    {
        var trials = sweep.Trials.Where(trial => trial.Value is not null).ToList();
        var metric = sweep.Spec.Metric ?? SweepMetric.ValidationAccuracy;
        var scores = trials.Select(trial => trial.Value!.Value).ToList();
        var axes = fields.Select(field => Axis(field, trials)).ToList();
        axes.Add(MetricAxis(metric, scores));
        return new ParallelPlot(axes, scores, [.. trials.Select(trial => trial.Number)], EarlyTermination.Describe(metric), sweep.Spec.Goal == SweepGoal.Minimize);
    }

    private static ParallelAxis Axis(SearchDimension field, IReadOnlyList<TrialView> trials)
    {
        var path = field.Path.Text;
        var values = trials.Select(trial => trial.Parameters.TryGetValue(path, out var value) ? value : (JsonElement?)null).ToList();
        if (field.IsNumeric && values.All(value => value is { ValueKind: JsonValueKind.Number }))
        {
            var numbers = values.Select(value => value!.Value.GetDouble()).ToList();
            return field.IsLog ? LogAxis(path, numbers, field.Min, field.Max) : LinearAxis(path, numbers, field.Min, field.Max);
        }
        return CategoryAxis(path, field, values);
    }

    private static ParallelAxis LinearAxis(string label, IReadOnlyList<double> numbers, double min, double max) =>
        new(label, numbers, Math.Min(min, numbers.DefaultIfEmpty(min).Min()), Math.Max(max, numbers.DefaultIfEmpty(max).Max()));

    /// <summary>Plotted as log10 of the value, with ticks at 1, 2 and 5 times the powers of ten (only the powers when those are many), written as values.</summary>
    private static ParallelAxis LogAxis(string label, IReadOnlyList<double> numbers, double min, double max)
    {
        var low = Math.Min(min, numbers.DefaultIfEmpty(min).Min());
        var high = Math.Max(max, numbers.DefaultIfEmpty(max).Max());
        var ticks = LogTicks(low, high);
        return new ParallelAxis($"{label} (log)", [.. numbers.Select(Math.Log10)], Math.Log10(low), Math.Log10(high),
            [.. ticks.Select(Math.Log10)], [.. ticks.Select(tick => Format.Number(tick))]);
    }

    /// <summary>Round values between <paramref name="low"/> and <paramref name="high"/> (both greater than 0): 1, 2, 5 × 10^k, or the ends when none fit.</summary>
    public static IReadOnlyList<double> LogTicks(double low, double high)
    {
        var candidates = new List<(double Value, bool Power)>();
        for (var exponent = (int)Math.Floor(Math.Log10(low)); exponent <= (int)Math.Ceiling(Math.Log10(high)); exponent++)
        {
            foreach (var mantissa in new[] { 1, 2, 5 })
            {
                // Parsed from text so that 2e-3 is the double 0.002 is, not 2 × 0.001.
                var value = double.Parse($"{mantissa}e{exponent}", System.Globalization.CultureInfo.InvariantCulture);
                if (value >= low * (1 - 1e-9) && value <= high * (1 + 1e-9))
                {
                    candidates.Add((value, mantissa == 1));
                }
            }
        }
        var ticks = candidates.Count > 6 ? candidates.Where(tick => tick.Power).Select(tick => tick.Value).ToList() : candidates.Select(tick => tick.Value).ToList();
        return ticks.Count >= 2 ? ticks : [.. new[] { low, high }.Distinct()];
    }

    /// <summary>
    /// A tick per value, in the choice's order (numbers from low to high), values outside the choice after it, and
    /// <see cref="NotSearched"/> last for the trials that lack the field.
    /// </summary>
    private static ParallelAxis CategoryAxis(string label, SearchDimension field, IReadOnlyList<JsonElement?> values)
    {
        var listed = field.Distribution == ParameterDistribution.Choice ? field.Values : [];
        var categories = new List<(string Key, string Text)>();
        foreach (var value in Ordered(listed).Concat(Ordered([.. values.OfType<JsonElement>()])))
        {
            var key = SearchSpace.Canonical(value);
            if (!categories.Exists(category => category.Key == key))
            {
                categories.Add((key, SweepText.Value(value)));
            }
        }
        if (values.Any(value => value is null))
        {
            // Canonical JSON of a string is quoted, so this key never collides with a value's.
            categories.Add((NotSearched, NotSearched));
        }
        var positions = values.Select(value => (double)categories.FindIndex(category => category.Key == (value is { } v ? SearchSpace.Canonical(v) : NotSearched))).ToList();
        // Half a step beyond the first and last tick, so that a single category sits in the middle.
        return new ParallelAxis(label, positions, -0.5, categories.Count - 0.5,
            [.. Enumerable.Range(0, categories.Count).Select(index => (double)index)], [.. categories.Select(category => category.Text)]);
    }

    /// <summary>Numbers from low to high; anything else as listed.</summary>
    private static IReadOnlyList<JsonElement> Ordered(IReadOnlyList<JsonElement> values) =>
        values.All(value => value.ValueKind == JsonValueKind.Number) ? [.. values.OrderBy(value => value.GetDouble())] : values;

    private static ParallelAxis MetricAxis(SweepMetric metric, List<double> scores)
    {
        var (low, high) = scores.Count == 0 ? (0, 1) : (scores.Min(), scores.Max());
        if (high - low < 1e-12)
        {
            // One score, or all alike: a flat axis would put every line on one point of an empty range.
            (low, high) = (low - 0.5 * Math.Max(Math.Abs(low) * 0.1, 0.01), high + 0.5 * Math.Max(Math.Abs(high) * 0.1, 0.01));
        }
        return new ParallelAxis(EarlyTermination.Describe(metric), scores, low, high, TickFormat: SweepText.IsAccuracy(metric) ? ".1%" : null);
    }
}
