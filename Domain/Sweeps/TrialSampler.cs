using System.Text.Json;

namespace Experiments.Domain.Sweeps;

/// <summary>A finished trial as the model-based method learns from it: its values and its score (the sweep's metric).</summary>
public sealed record ScoredTrial(TrialValues Values, double Score);

/// <summary>
/// Chooses a trial's values. Every choice is a function of the sweep's seed and the trial's number (and, for TPE, of the
/// trials scored before it), so a controller that restarts, or a second one, draws the same values for the same trial.
/// </summary>
public static class TrialSampler
{
    /// <summary>TPE draws at random until this many trials are scored.</summary>
    public const int TpeStartupTrials = 5;

    /// <summary>Candidates TPE draws from the good trials' density, keeping the one most likelier there than among the others.</summary>
    public const int TpeCandidates = 24;

    /// <summary>Trial <paramref name="number"/> (from 1) of the grid, in the seed's order; null once the grid is exhausted.</summary>
    public static TrialValues? Grid(SearchSpace space, long seed, int number)
    {
        var grid = space.Grid().ToArray();
        if (number > grid.Length)
        {
            return null;
        }
        // Shuffled so that the first trials are spread over the grid: early termination then compares a trial with a
        // fair sample of the others rather than with one corner of the grid.
        new Random(Mix(seed, 0)).Shuffle(grid);
        return grid[number - 1];
    }

    public static TrialValues Random(SearchSpace space, long seed, int number)
    {
        var random = new Random(Mix(seed, number));
        var values = new JsonElement?[space.Dimensions.Count];
        for (var d = 0; d < values.Length; d++)
        {
            values[d] = space.IsActive(d, values) ? Draw(space.Dimensions[d], random) : null;
        }
        return new TrialValues(values);
    }

    /// <summary>
    /// Tree-structured Parzen estimator (Bergstra et al., 2011), one dimension at a time over the trials where it was searched:
    /// the best quarter of the scored trials (at most 25) against the rest, a Parzen density of each (a Gaussian per trial in
    /// the dimension's own scale, log for log ranges, plus a flat prior), and of <see cref="TpeCandidates"/> draws from the
    /// good density the one with the highest ratio of good to rest. Random until <see cref="TpeStartupTrials"/> are scored.
    /// </summary>
    public static TrialValues Tpe(SearchSpace space, long seed, int number, IReadOnlyList<ScoredTrial> history, SweepGoal goal)
    {
        if (history.Count < TpeStartupTrials)
        {
            return Random(space, seed, number);
        }
        var random = new Random(Mix(seed, number));
        var ranked = goal == SweepGoal.Maximize ? history.OrderByDescending(trial => trial.Score).ToList() : history.OrderBy(trial => trial.Score).ToList();
        var values = new JsonElement?[space.Dimensions.Count];
        for (var d = 0; d < values.Length; d++)
        {
            if (!space.IsActive(d, values))
            {
                continue;
            }
            var dimension = space.Dimensions[d];
            var observed = ranked.Where(trial => trial.Values.Values[d] is not null).Select(trial => trial.Values.Values[d]!.Value).ToList();
            if (observed.Count < 2)
            {
                values[d] = Draw(dimension, random);
                continue;
            }
            var goodCount = Math.Min(25, Math.Max(1, (int)Math.Ceiling(observed.Count * 0.25)));
            var good = observed.Take(goodCount).ToList();
            var rest = observed.Skip(goodCount).ToList();
            values[d] = dimension.IsNumeric ? TpeNumber(dimension, good, rest, random) : TpeChoice(dimension, good, rest, random);
        }
        return new TrialValues(values);
    }

    private static JsonElement TpeChoice(SearchDimension dimension, List<JsonElement> good, List<JsonElement> rest, Random random)
    {
        var keys = dimension.Values.Select(SearchSpace.Canonical).ToList();
        double[] Weights(List<JsonElement> trials)
        {
            var weights = Enumerable.Repeat(1.0, keys.Count).ToArray();
            foreach (var value in trials)
            {
                var index = keys.IndexOf(SearchSpace.Canonical(value));
                if (index >= 0)
                {
                    weights[index]++;
                }
            }
            var total = weights.Sum();
            return weights.Select(weight => weight / total).ToArray();
        }
        var inGood = Weights(good);
        var inRest = Weights(rest);
        var best = -1;
        var bestRatio = double.NegativeInfinity;
        for (var candidate = 0; candidate < TpeCandidates; candidate++)
        {
            var u = random.NextDouble();
            var index = 0;
            while (index < inGood.Length - 1 && (u -= inGood[index]) > 0)
            {
                index++;
            }
            var ratio = Math.Log(inGood[index]) - Math.Log(inRest[index]);
            if (ratio > bestRatio)
            {
                (best, bestRatio) = (index, ratio);
            }
        }
        return dimension.Values[best];
    }

    private static JsonElement TpeNumber(SearchDimension dimension, List<JsonElement> good, List<JsonElement> rest, Random random)
    {
        var (low, high) = InternalRange(dimension);
        var inGood = Parzen.Of(good.Select(value => ToInternal(dimension, value.GetDouble())).ToList(), low, high);
        var inRest = Parzen.Of(rest.Select(value => ToInternal(dimension, value.GetDouble())).ToList(), low, high);
        var best = double.NaN;
        var bestRatio = double.NegativeInfinity;
        for (var candidate = 0; candidate < TpeCandidates; candidate++)
        {
            var x = inGood.Sample(random);
            var ratio = inGood.LogDensity(x) - inRest.LogDensity(x);
            if (ratio > bestRatio)
            {
                (best, bestRatio) = (x, ratio);
            }
        }
        return FromInternal(dimension, best);
    }

    /// <summary>A mixture of a flat prior over [low, high] and a Gaussian at each point, each point's width the larger gap to its neighbours.</summary>
    private sealed record Parzen(double[] Means, double[] Sigmas, double Low, double High)
    {
        public static Parzen Of(List<double> points, double low, double high)
        {
            var means = points.Order().ToArray();
            var range = high - low;
            var minimum = range / Math.Min(100.0, means.Length + 1);
            var sigmas = new double[means.Length];
            for (var i = 0; i < means.Length; i++)
            {
                var left = i == 0 ? means[i] - low : means[i] - means[i - 1];
                var right = i == means.Length - 1 ? high - means[i] : means[i + 1] - means[i];
                sigmas[i] = Math.Clamp(Math.Max(left, right), minimum, range);
            }
            return new Parzen(means, sigmas, low, high);
        }

        public double Sample(Random random)
        {
            var component = random.Next(Means.Length + 1);
            if (component == Means.Length)
            {
                return Low + random.NextDouble() * (High - Low);
            }
            for (var attempt = 0; attempt < 16; attempt++)
            {
                var x = Means[component] + Sigmas[component] * Normal(random);
                if (x >= Low && x <= High)
                {
                    return x;
                }
            }
            return Math.Clamp(Means[component], Low, High);
        }

        public double LogDensity(double x)
        {
            var density = 1 / (High - Low);
            for (var i = 0; i < Means.Length; i++)
            {
                var z = (x - Means[i]) / Sigmas[i];
                density += Math.Exp(-0.5 * z * z) / (Sigmas[i] * Math.Sqrt(2 * Math.PI));
            }
            return Math.Log(density / (Means.Length + 1));
        }

        private static double Normal(Random random) =>
            Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
    }

    /// <summary>A value drawn evenly in the dimension's own scale.</summary>
    private static JsonElement Draw(SearchDimension dimension, Random random)
    {
        if (!dimension.IsNumeric)
        {
            return dimension.Values[random.Next(dimension.Values.Count)];
        }
        var (low, high) = InternalRange(dimension);
        return FromInternal(dimension, low + random.NextDouble() * (high - low));
    }

    /// <summary>The range sampled: log for log ranges; whole numbers widened by half on each side so that each is as likely.</summary>
    private static (double Low, double High) InternalRange(SearchDimension dimension)
    {
        var (low, high) = dimension.IsInteger ? (dimension.Min - 0.5, dimension.Max + 0.5) : (dimension.Min, dimension.Max);
        // A logInt range starts at 1 or more, so its low end (at least 0.5) has a logarithm.
        return dimension.IsLog ? (Math.Log(low), Math.Log(high)) : (low, high);
    }

    private static double ToInternal(SearchDimension dimension, double value) => dimension.IsLog ? Math.Log(value) : value;

    private static JsonElement FromInternal(SearchDimension dimension, double x)
    {
        var value = dimension.IsLog ? Math.Exp(x) : x;
        if (dimension.IsInteger)
        {
            return SearchDimension.Number(Math.Clamp(Math.Round(value, MidpointRounding.AwayFromZero), dimension.Min, dimension.Max), integer: true);
        }
        // Six significant digits: what a person reads in the table and types again, and still a value of the range.
        var rounded = Math.Clamp(double.Parse(value.ToString("G6", System.Globalization.CultureInfo.InvariantCulture), System.Globalization.CultureInfo.InvariantCulture),
            dimension.Min, dimension.Max);
        return SearchDimension.Number(rounded, integer: false);
    }

    /// <summary>A 32-bit seed from the sweep's seed and a trial's number (SplitMix64's finalizer), the same on every machine.</summary>
    public static int Mix(long seed, int number)
    {
        unchecked
        {
            var z = (ulong)seed + 0x9E3779B97F4A7C15UL * (ulong)(number + 1);
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            return (int)(z & 0x7FFFFFFF);
        }
    }
}
