using System.Globalization;
using System.Text.Json;
using Experiments.Domain.Sweeps;

namespace Experiments.Web.Sweeps;

/// <summary>A labelled mark on an axis, at <see cref="Value"/> in the axis's units (log10 of the value on a logarithmic axis).</summary>
public sealed record ParallelTick(double Value, string Text);

/// <summary>
/// One axis of a parallel-coordinates plot: where each plotted trial lies on it (<see cref="Values"/>, in the axis's units),
/// how each of those values reads (<see cref="Texts"/>), the axis's range and its labelled ticks.
/// </summary>
public sealed record ParallelAxis(string Label, IReadOnlyList<double> Values, IReadOnlyList<string> Texts, double Min, double Max, IReadOnlyList<ParallelTick> Ticks)
{
    /// <summary>Where <paramref name="value"/> lies on the axis: 0 at <see cref="Min"/> (the bottom), 1 at <see cref="Max"/>.</summary>
    public double Position(double value) => Max > Min ? (value - Min) / (Max - Min) : 0.5;
}

/// <summary>
/// A sweep's scored trials as a parallel-coordinates plot: an axis per searched field, then the metric; a line per trial
/// (<see cref="Trials"/>, with their <see cref="Scores"/>), coloured by its score on plotly's Viridis scale, yellow for the
/// best whichever the goal.
/// </summary>
public sealed record ParallelPlot(IReadOnlyList<ParallelAxis> Axes, IReadOnlyList<int> Trials, IReadOnlyList<double> Scores, bool LowerIsBetter)
{
    /// <summary>Where a trial that does not search a field (a sub-space it did not choose) lies on that field's axis.</summary>
    public const string NotSearched = "–";

    /// <summary>plotly.js's Viridis, from its lowest stop to its highest.</summary>
    private static readonly (double At, int R, int G, int B)[] Viridis =
    [
        (0, 68, 1, 84), (0.0627, 72, 24, 106), (0.1255, 71, 45, 123), (0.1882, 66, 64, 134), (0.2510, 59, 82, 139), (0.3137, 51, 99, 141),
        (0.3765, 44, 114, 142), (0.4392, 38, 130, 142), (0.5020, 33, 145, 140), (0.5647, 31, 160, 136), (0.6275, 40, 174, 128), (0.6902, 63, 188, 115),
        (0.7529, 94, 201, 98), (0.8157, 132, 212, 75), (0.8784, 173, 220, 48), (0.9412, 216, 226, 25), (1, 253, 231, 37),
    ];

    /// <summary>The round numbers between powers of ten that ticks fall on.</summary>
    private static readonly int[] LogMantissas = [1, 2, 5];

    private static readonly int[] StepMultiples = [1, 2, 5, 10, 20, 50, 100];

    public static ParallelPlot Of(SweepView sweep, IReadOnlyList<SearchDimension> fields)
    {
        var trials = sweep.Trials.Where(trial => trial.Value is not null).ToList();
        var metric = sweep.Spec.Metric ?? SweepMetric.ValidationAccuracy;
        var scores = trials.Select(trial => trial.Value!.Value).ToList();
        var axes = fields.Select(field => Axis(field, trials)).ToList();
        axes.Add(MetricAxis(metric, scores));
        return new ParallelPlot(axes, [.. trials.Select(trial => trial.Number)], scores, sweep.Spec.Goal == SweepGoal.Minimize);
    }

    /// <summary>How good line <paramref name="line"/> is among the plotted ones: 0 for the worst score, 1 for the best.</summary>
    public double Goodness(int line)
    {
        var (worst, best) = LowerIsBetter ? (Scores.Max(), Scores.Min()) : (Scores.Min(), Scores.Max());
        return best == worst ? 1 : (Scores[line] - worst) / (best - worst);
    }

    /// <summary>The line's colour, <c>#rrggbb</c>: Viridis at its <see cref="Goodness"/>.</summary>
    public string Color(int line)
    {
        var at = Goodness(line);
        var upper = Array.FindIndex(Viridis, stop => stop.At >= at);
        if (upper <= 0)
        {
            return Hex(Viridis[0].R, Viridis[0].G, Viridis[0].B);
        }
        var (low, high) = (Viridis[upper - 1], Viridis[upper]);
        var t = (at - low.At) / (high.At - low.At);
        return Hex(Mix(low.R, high.R, t), Mix(low.G, high.G, t), Mix(low.B, high.B, t));
    }

    private static int Mix(int from, int to, double t) => (int)Math.Round(from + (to - from) * t);

    private static string Hex(int r, int g, int b) => string.Create(CultureInfo.InvariantCulture, $"#{r:x2}{g:x2}{b:x2}");

    private static ParallelAxis Axis(SearchDimension field, IReadOnlyList<TrialView> trials)
    {
        var path = field.Path.Text;
        var values = trials.Select(trial => trial.Parameters.TryGetValue(path, out var value) ? value : (JsonElement?)null).ToList();
        if (field.IsNumeric && values.All(value => value is { ValueKind: JsonValueKind.Number }))
        {
            var numbers = values.Select(value => value!.Value.GetDouble()).ToList();
            var low = Math.Min(field.Min, numbers.DefaultIfEmpty(field.Min).Min());
            var high = Math.Max(field.Max, numbers.DefaultIfEmpty(field.Max).Max());
            var texts = numbers.Select(number => Format.Number(number)).ToList();
            return field.IsLog
                ? new ParallelAxis($"{path} (log)", [.. numbers.Select(Math.Log10)], texts, Math.Log10(low), Math.Log10(high),
                    [.. LogTicks(low, high).Select(tick => new ParallelTick(Math.Log10(tick), Format.Number(tick)))])
                : new ParallelAxis(path, numbers, texts, low, high, [.. LinearTicks(low, high).Select(tick => new ParallelTick(tick, Format.Number(tick)))]);
        }
        return CategoryAxis(path, field, values);
    }

    /// <summary>Round values between <paramref name="low"/> and <paramref name="high"/> (both greater than 0): 1, 2, 5 × 10^k (only the powers when those are many), or the ends when fewer than two fit.</summary>
    public static IReadOnlyList<double> LogTicks(double low, double high)
    {
        var candidates = new List<(double Value, bool Power)>();
        for (var exponent = (int)Math.Floor(Math.Log10(low)); exponent <= (int)Math.Ceiling(Math.Log10(high)); exponent++)
        {
            foreach (var mantissa in LogMantissas)
            {
                // Parsed from text so that 2e-3 is the double 0.002 is, not 2 × 0.001.
                var value = double.Parse($"{mantissa}e{exponent}", CultureInfo.InvariantCulture);
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
    /// Multiples of the smallest round step (1, 2 or 5 × 10^k) that puts at most six of them between <paramref name="low"/> and
    /// <paramref name="high"/>; the ends when fewer than two fit.
    /// </summary>
    public static IReadOnlyList<double> LinearTicks(double low, double high)
    {
        if (high <= low)
        {
            return [low];
        }
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(high - low)) - 1);
        var step = StepMultiples.Select(multiple => multiple * magnitude).First(candidate => Multiples(low, high, candidate).Count() <= 6);
        var ticks = Multiples(low, high, step).ToList();
        return ticks.Count >= 2 ? ticks : [low, high];
    }

    private static IEnumerable<double> Multiples(double low, double high, double step)
    {
        for (var k = Math.Ceiling(low / step - 1e-9); k * step <= high + step * 1e-9; k++)
        {
            yield return Math.Round(k * step, 12);
        }
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
        var positions = values.Select(value => categories.FindIndex(category => category.Key == (value is { } v ? SearchSpace.Canonical(v) : NotSearched))).ToList();
        // Half a step beyond the first and last tick, so that a single category sits in the middle.
        return new ParallelAxis(label, [.. positions.Select(position => (double)position)], [.. positions.Select(position => categories[position].Text)],
            -0.5, categories.Count - 0.5, [.. categories.Select((category, index) => new ParallelTick(index, category.Text))]);
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
            (low, high) = (low - Math.Max(Math.Abs(low) * 0.05, 0.005), high + Math.Max(Math.Abs(high) * 0.05, 0.005));
        }
        return new ParallelAxis(EarlyTermination.Describe(metric), scores, [.. scores.Select(score => SweepText.Score(metric, score))], low, high,
            [.. LinearTicks(low, high).Select(tick => new ParallelTick(tick, SweepText.Score(metric, tick)))]);
    }
}
