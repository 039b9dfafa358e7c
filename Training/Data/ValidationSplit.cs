using Experiments.Domain.Runs;

namespace Experiments.Training.Data;

/// <summary>
/// The part of a training split a run holds out for validation (<c>validationFraction</c>): stratified by class for
/// classification (each class keeps its share), a plain random draw for regression, and the same rows for the same
/// seed, so a resumed run, the mistakes endpoint and pre-flight all see the split training saw.
/// </summary>
public static class ValidationSplit
{
    /// <summary>Rows of <paramref name="train"/> that stay for training and rows held out, each ascending.</summary>
    public static (int[] Train, int[] Validation) Rows(DatasetArrays train, double fraction, long seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(fraction, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(fraction, 1);
        var random = new Random(unchecked((int)(seed ^ (seed >>> 32))));
        IEnumerable<int[]> strata = train.Kind == TargetKind.ClassIndex
            ? Enumerable.Range(0, train.Count).GroupBy(row => train.Labels[row]).OrderBy(group => group.Key).Select(group => group.ToArray())
            : [Enumerable.Range(0, train.Count).ToArray()];
        var kept = new List<int>(train.Count);
        var heldOut = new List<int>(RunSpecValidator.HeldOutCount(train.Count, fraction) + 16);
        foreach (var stratum in strata)
        {
            random.Shuffle(stratum);
            // A class of one sample stays in training: it cannot be both learnt and validated.
            var count = stratum.Length < 2 ? 0 : Math.Clamp(RunSpecValidator.HeldOutCount(stratum.Length, fraction), 1, stratum.Length - 1);
            heldOut.AddRange(stratum.AsSpan(0, count));
            kept.AddRange(stratum.AsSpan(count));
        }
        kept.Sort();
        heldOut.Sort();
        return ([.. kept], [.. heldOut]);
    }

    public static (DatasetArrays Train, DatasetArrays Validation) Apply(DatasetArrays train, double fraction, long seed)
    {
        var (kept, heldOut) = Rows(train, fraction, seed);
        return (train.Take(kept), train.Take(heldOut));
    }
}
