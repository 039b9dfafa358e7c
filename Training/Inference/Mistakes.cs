using Experiments.Training.Data;
using Experiments.Training.Evaluation;

namespace Experiments.Training.Inference;

/// <summary>Which samples a run's mistakes are, and in what order.</summary>
public enum MistakeKind
{
    /// <summary>Misclassified samples, in the split's order.</summary>
    Wrong,

    /// <summary>Misclassified samples, the highest probability of the (wrong) predicted class first.</summary>
    ConfidentWrong,

    /// <summary>Every sample, right or wrong, the smallest margin between its two most probable classes first.</summary>
    Ambiguous,
}

/// <summary>The split a run's mistakes are looked for in.</summary>
public enum MistakeSplit
{
    Test,

    /// <summary>The rows training used: the stored training split, less the validation rows when the run holds some out.</summary>
    Train,

    /// <summary>The rows of the stored training split the run held out for validation.</summary>
    Validation,
}

/// <summary>
/// One split as the model sees it (preprocessed) and, per sample, its row in the split the dataset file stores it in:
/// the test split, or the training split that train and validation are both drawn from.
/// </summary>
public sealed record SplitSamples(DatasetArrays Samples, bool StoredInTest, int[] StoredRows)
{
    /// <summary>
    /// The samples of <paramref name="split"/> in <paramref name="data"/> (read whole, with no hold-out applied): with a
    /// <paramref name="validationFraction"/>, train and validation are the rows <see cref="ValidationSplit"/> gives for the
    /// run's seed, as training drew them. Validation needs a fraction.
    /// </summary>
    public static SplitSamples Of(LoadedDataset data, MistakeSplit split, double? validationFraction, long seed)
    {
        if (split == MistakeSplit.Test)
        {
            return new SplitSamples(data.Test, StoredInTest: true, [.. Enumerable.Range(0, data.Test.Count)]);
        }
        if (validationFraction is not { } fraction)
        {
            return split == MistakeSplit.Train
                ? new SplitSamples(data.Train, StoredInTest: false, [.. Enumerable.Range(0, data.Train.Count)])
                : throw new ArgumentException("The run holds no validation split out.", nameof(validationFraction));
        }
        var (kept, heldOut) = ValidationSplit.Rows(data.Train, fraction, seed);
        var rows = split == MistakeSplit.Train ? kept : heldOut;
        return new SplitSamples(data.Train.Take(rows), StoredInTest: false, rows);
    }
}

/// <summary>One chosen sample: its position in the split, its classes, every class's probability and the margin between the two most probable.</summary>
public sealed record Mistake(int Index, int TrueClass, int PredictedClass, float[] Probabilities, double Margin);

public static class Mistakes
{
    /// <summary>
    /// The samples of <paramref name="kind"/> (of true class <paramref name="trueClass"/> and predicted class
    /// <paramref name="predictedClass"/> when given), in the kind's order, ties by position in the split; the first
    /// <paramref name="count"/> of them and how many matched in all. For <see cref="MistakeKind.Wrong"/> without class
    /// filters the total is the confusion matrix's off-diagonal sum; with both, it is that cell.
    /// </summary>
    public static (int Total, IReadOnlyList<Mistake> Chosen) Find(
        long[] labels, ClassifiedSamples classified, MistakeKind kind, int? trueClass, int? predictedClass, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(classified.Predicted.Length, labels.Length, nameof(classified));
        var predicted = classified.Predicted;
        var probabilities = classified.Probabilities;
        var matching = Enumerable.Range(0, labels.Length)
            .Where(i => (kind == MistakeKind.Ambiguous || labels[i] != predicted[i])
                && (trueClass is null || labels[i] == trueClass)
                && (predictedClass is null || predicted[i] == predictedClass))
            .ToList();
        IEnumerable<int> ordered = kind switch
        {
            MistakeKind.Wrong => matching,
            MistakeKind.ConfidentWrong => matching.OrderByDescending(i => probabilities[i][predicted[i]]).ThenBy(i => i),
            MistakeKind.Ambiguous => matching.OrderBy(i => Margin(probabilities[i])).ThenBy(i => i),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
        };
        var chosen = ordered.Take(count)
            .Select(i => new Mistake(i, (int)labels[i], predicted[i], probabilities[i], Margin(probabilities[i])))
            .ToList();
        return (matching.Count, chosen);
    }

    /// <summary>The most probable class's probability less the second's: 0 when the model cannot tell them apart.</summary>
    public static double Margin(float[] probabilities)
    {
        double first = double.NegativeInfinity, second = double.NegativeInfinity;
        foreach (var probability in probabilities)
        {
            if (probability > first)
            {
                second = first;
                first = probability;
            }
            else if (probability > second)
            {
                second = probability;
            }
        }
        return probabilities.Length < 2 ? first : first - second;
    }
}
