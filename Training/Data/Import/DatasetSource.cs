using System.Globalization;
using Experiments.Domain.Datasets;

namespace Experiments.Training.Data.Import;

/// <summary>
/// An upload as parsed, before conversion: the training features and labels, and the test split's when the
/// file(s) held one. Features stay in their <see cref="ArraySource"/>; labels, one per sample, are in memory.
/// </summary>
public sealed record DatasetSource(
    DatasetFormat Format,
    string Dtype,
    ArraySource TrainFeatures,
    LabelSource TrainLabels,
    ArraySource? TestFeatures,
    LabelSource? TestLabels);

/// <summary>
/// The labels of one split: numbers (<see cref="Width"/> per sample) or texts, and how messages point at the
/// i-th one ("line 12" of a CSV, "y_train[12]" of an array).
/// </summary>
public sealed class LabelSource
{
    private readonly Func<long, string> _locate;

    private LabelSource(string name, string field, long count, double[]? numbers, int width, bool integerType, string[]? texts, Func<long, string> locate)
    {
        Name = name;
        Field = field;
        Count = count;
        Numbers = numbers;
        Width = width;
        IntegerType = integerType;
        Texts = texts;
        _locate = locate;
    }

    public string Name { get; }

    public string Field { get; }

    public long Count { get; }

    /// <summary>Row-major [Count × Width], or null when the labels are texts.</summary>
    public double[]? Numbers { get; }

    public int Width { get; }

    /// <summary>The labels were stored as integers (or booleans), not floats.</summary>
    public bool IntegerType { get; }

    public string[]? Texts { get; }

    public string Locate(long index) => _locate(index);

    public static LabelSource FromArray(ArraySource array)
    {
        if (array.Shape.Length > 2)
        {
            throw new DatasetImportException(array.Field, $"'{array.Name}' has shape {ArraySource.FormatShape(array.Shape)}; labels are one value per sample (shape (N,)) or, for regression, one row of targets per sample (shape (N, k)).");
        }
        var name = array.Name;
        return new LabelSource(name, array.Field, array.Count, array.ReadAll(), array.RowLength, array.Type.IsInteger, null,
            index => string.Create(CultureInfo.InvariantCulture, $"{name}[{index}]"));
    }

    /// <summary>Texts that are all numbers become numbers (integers when every one is whole).</summary>
    public static LabelSource FromTexts(string name, string field, string[] texts, Func<long, string> locate)
    {
        var numbers = new double[texts.Length];
        var integers = true;
        for (var i = 0; i < texts.Length; i++)
        {
            if (!double.TryParse(texts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out numbers[i]))
            {
                return new LabelSource(name, field, texts.Length, null, 1, false, texts, locate);
            }
            integers &= long.TryParse(texts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out _);
        }
        return new LabelSource(name, field, texts.Length, numbers, 1, integers, null, locate);
    }
}
