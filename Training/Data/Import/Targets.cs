using System.Globalization;
using Experiments.Domain.Datasets;
using Experiments.Training.Data;

namespace Experiments.Training.Data.Import;

/// <summary>
/// The labels of both sources turned into what the dataset file stores: class indices with their names, or
/// regression values. Classification is the default for integers and texts; floats that are not whole
/// numbers, labels with several values per sample, or <c>task=regression</c> make a regression dataset.
/// </summary>
public sealed class Targets
{
    public const int MaxClasses = 10_000;

    private Targets(DatasetTask task, string[] classNames, int targetSize, long[][] classes, float[][] values)
    {
        Task = task;
        ClassNames = classNames;
        TargetSize = targetSize;
        Classes = classes;
        Values = values;
    }

    public DatasetTask Task { get; }

    public TargetKind Kind => Task == DatasetTask.Classification ? TargetKind.ClassIndex : TargetKind.Values;

    public string[] ClassNames { get; }

    public int TargetSize { get; }

    /// <summary>Per source (train, then test when the file had one): one class index per sample.</summary>
    public long[][] Classes { get; }

    /// <summary>Per source: [count × TargetSize] values.</summary>
    public float[][] Values { get; }

    public static Targets Encode(IReadOnlyList<LabelSource> sources, DatasetTask? task)
    {
        var texts = sources.Any(source => source.Texts is not null);
        if (texts)
        {
            if (task == DatasetTask.Regression)
            {
                var source = sources.First(source => source.Texts is not null);
                throw new DatasetImportException(source.Field, $"regression needs numeric targets, but {source.Locate(0)} of '{source.Name}' is '{Shorten(source.Texts![0])}'.");
            }
            return FromTexts(sources);
        }
        var width = sources[0].Width;
        foreach (var source in sources)
        {
            if (source.Width != width)
            {
                throw new DatasetImportException(source.Field, $"'{source.Name}' has {source.Width} values per sample, the training labels {width}.");
            }
            CheckFinite(source);
        }
        var integral = sources.All(source => source.IntegerType || source.Numbers!.All(value => value == Math.Floor(value)));
        var regression = task == DatasetTask.Regression || (task is null && (width > 1 || !integral));
        if (regression)
        {
            return new Targets(DatasetTask.Regression, [], width, [], sources.Select(source => source.Numbers!.Select(value => (float)value).ToArray()).ToArray());
        }
        if (width > 1)
        {
            throw new DatasetImportException(sources[0].Field, $"classification needs one label per sample, but '{sources[0].Name}' has {width} per sample "
                + "(one-hot labels? save y.argmax(1) instead; several targets? set task=regression).");
        }
        return FromIntegers(sources);
    }

    private static Targets FromIntegers(IReadOnlyList<LabelSource> sources)
    {
        long max = 0;
        foreach (var source in sources)
        {
            var numbers = source.Numbers!;
            for (var i = 0; i < numbers.Length; i++)
            {
                var value = numbers[i];
                if (value != Math.Floor(value))
                {
                    throw new DatasetImportException(source.Field, string.Create(CultureInfo.InvariantCulture,
                        $"{source.Locate(i)} of '{source.Name}' is {value}, not a whole number; classification labels are class indices 0, 1, 2, … (for real-valued targets set task=regression)."));
                }
                if (value < 0 || value >= MaxClasses)
                {
                    throw new DatasetImportException(source.Field, string.Create(CultureInfo.InvariantCulture,
                        $"{source.Locate(i)} of '{source.Name}' is {value}, out of range: class labels are 0..{MaxClasses - 1}. Is '{source.Name}' the label column?"));
                }
                max = Math.Max(max, (long)value);
            }
        }
        var names = Enumerable.Range(0, (int)max + 1).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        return new Targets(DatasetTask.Classification, names, 1, sources.Select(source => source.Numbers!.Select(value => (long)value).ToArray()).ToArray(), []);
    }

    /// <summary>Text labels are sorted and numbered; numbers among them are compared as text.</summary>
    private static Targets FromTexts(IReadOnlyList<LabelSource> sources)
    {
        var all = sources.SelectMany(source => source.Texts ?? source.Numbers!.Select(value => value.ToString(CultureInfo.InvariantCulture)));
        var names = all.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        if (names.Length > MaxClasses)
        {
            throw new DatasetImportException(sources[0].Field, $"'{sources[0].Name}' has {names.Length} distinct labels, more than {MaxClasses} classes; is it the label column?");
        }
        var indexOf = names.Select((label, index) => (label, index)).ToDictionary(pair => pair.label, pair => (long)pair.index, StringComparer.Ordinal);
        var classes = sources.Select(source => (source.Texts ?? source.Numbers!.Select(value => value.ToString(CultureInfo.InvariantCulture)).ToArray())
            .Select(label => indexOf[label]).ToArray()).ToArray();
        return new Targets(DatasetTask.Classification, names, 1, classes, []);
    }

    private static void CheckFinite(LabelSource source)
    {
        var numbers = source.Numbers!;
        for (var i = 0; i < numbers.Length; i++)
        {
            if (!double.IsFinite(numbers[i]) || Math.Abs(numbers[i]) > float.MaxValue)
            {
                throw new DatasetImportException(source.Field, string.Create(CultureInfo.InvariantCulture,
                    $"{source.Locate(i / source.Width)} of '{source.Name}' is {numbers[i]}; labels must be finite numbers. Remove or impute it before importing."));
            }
        }
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";
}
