using System.Numerics;
using System.Runtime.InteropServices;
using Experiments.Domain.Datasets;

namespace Experiments.Training.Data.Import;

/// <summary>
/// A pickled dict in the layout of the classic PyTorch tutorial (<c>training_data</c>, <c>training_labels</c>,
/// <c>testing_data</c>, <c>testing_labels</c>), whose values are NumPy arrays or nested lists of numbers.
/// </summary>
public static class PickleDataset
{
    public static DatasetSource Read(Stream stream, ArrayKeys keys, ImportWorkspace workspace)
    {
        object? root;
        try
        {
            root = RestrictedUnpickler.Load(new BufferedStream(stream, 1 << 16));
        }
        catch (PickleFormatException refused)
        {
            throw new DatasetImportException("file", refused.Message);
        }
        if (root is not Dictionary<object, object?> dict)
        {
            throw new DatasetImportException("file", $"the pickle holds a {RestrictedUnpickler.Describe(root)}; Experiments reads a dict such as "
                + "{'training_data': …, 'training_labels': …, 'testing_data': …, 'testing_labels': …}.");
        }
        var names = dict.Keys.OfType<string>().ToList();
        var resolved = keys.Resolve(names, "the pickled dict");
        var (trainFeatures, trainDtype) = Features(dict[resolved.Features!], resolved.Features!, workspace);
        var trainLabels = Labels(dict[resolved.Labels!], resolved.Labels!, workspace);
        ArraySource? testFeatures = null;
        LabelSource? testLabels = null;
        if (resolved.TestFeatures is not null)
        {
            testFeatures = Features(dict[resolved.TestFeatures], resolved.TestFeatures, workspace).Array;
            testLabels = Labels(dict[resolved.TestLabels!], resolved.TestLabels!, workspace);
        }
        return new DatasetSource(DatasetFormat.Pickle, trainDtype, trainFeatures, trainLabels, testFeatures, testLabels);
    }

    private static (ArraySource Array, string Dtype) Features(object? value, string name, ImportWorkspace workspace)
    {
        if (value is NumpyArray array)
        {
            var source = FromNumpy(array, name, workspace);
            return (source, source.Type.Name);
        }
        var dense = Dense.From(value, name);
        if (dense.Texts is not null)
        {
            throw new DatasetImportException("file", $"'{name}' holds text ('{dense.Texts[0]}'); features must be numbers.");
        }
        return (dense.ToArray(name), dense.ArrayDtype ?? (dense.AllIntegers ? "int64" : "float64"));
    }

    private static LabelSource Labels(object? value, string name, ImportWorkspace workspace)
    {
        if (value is NumpyArray array)
        {
            return LabelSource.FromArray(FromNumpy(array, name, workspace));
        }
        var dense = Dense.From(value, name);
        if (dense.Texts is not null)
        {
            if (dense.Shape.Length != 1)
            {
                throw new DatasetImportException("file", $"'{name}' is a nested list of text; labels are one per sample.");
            }
            return LabelSource.FromTexts(name, "file", dense.Texts, index => $"{name}[{index}]");
        }
        return LabelSource.FromArray(dense.ToArray(name));
    }

    private static ArraySource FromNumpy(NumpyArray array, string name, ImportWorkspace workspace)
    {
        var type = array.Dtype?.Type ?? throw new DatasetImportException("file",
            $"'{name}' is a NumPy array of dtype '{array.Dtype?.Code}'; Experiments reads bool, int8..int64, uint8..uint64 and float16/32/64 arrays.");
        var stream = new MemoryStream(array.Data, writable: false);
        return array.Fortran
            ? ArraySource.FromFortranOrder(name, "file", type, array.Shape, stream, 0, workspace)
            : new ArraySource(name, "file", type, array.Shape, stream, 0);
    }

    /// <summary>Nested lists (or tuples) of numbers, NumPy scalars or NumPy arrays, flattened in C order.</summary>
    private sealed class Dense
    {
        private readonly List<double> _values = [];
        private readonly List<string> _texts = [];

        public long[] Shape { get; private set; } = [];

        public bool AllIntegers { get; private set; } = true;

        public bool FitsInBytes { get; private set; } = true;

        /// <summary>The dtype of the NumPy arrays the lists hold, when they hold arrays.</summary>
        public string? ArrayDtype { get; private set; }

        public string[]? Texts => _texts.Count > 0 ? [.. _texts] : null;

        public static Dense From(object? value, string name)
        {
            var dense = new Dense();
            dense.Shape = [.. ShapeOf(value, name)];
            dense.Add(value, name, 0);
            if (dense._texts.Count > 0 && dense._values.Count > 0)
            {
                throw new DatasetImportException("file", $"'{name}' mixes numbers and text.");
            }
            return dense;
        }

        /// <summary>The values as an in-memory array: int64 when every value was a whole number (so labels count as integers), else float64.</summary>
        public ArraySource ToArray(string name)
        {
            var bytes = new byte[_values.Count * sizeof(double)];
            var values = CollectionsMarshal.AsSpan(_values);
            if (AllIntegers)
            {
                var target = MemoryMarshal.Cast<byte, long>(bytes.AsSpan());
                for (var i = 0; i < values.Length; i++)
                {
                    target[i] = (long)values[i];
                }
            }
            else
            {
                values.CopyTo(MemoryMarshal.Cast<byte, double>(bytes.AsSpan()));
            }
            var type = AllIntegers ? new NumericType(NumericKind.Int, 8) : NumericType.Float64;
            return new ArraySource(name, "file", type, Shape, new MemoryStream(bytes, writable: false), 0, FitsInBytes);
        }

        private static List<long> ShapeOf(object? value, string name)
        {
            switch (value)
            {
                case List<object?> or object?[]:
                    var items = Items(value);
                    var shape = new List<long> { items.Count };
                    if (items.Count > 0)
                    {
                        shape.AddRange(ShapeOf(items[0], name));
                    }
                    return shape;
                case NumpyArray array:
                    return [.. array.Shape];
                default:
                    return [];
            }
        }

        private void Add(object? value, string path, int depth)
        {
            switch (value)
            {
                case List<object?> or object?[]:
                    var items = Items(value);
                    if (depth >= Shape.Length || items.Count != Shape[depth])
                    {
                        throw Ragged(path, items.Count, depth);
                    }
                    for (var i = 0; i < items.Count; i++)
                    {
                        Add(items[i], $"{path}[{i}]", depth + 1);
                    }
                    break;
                case NumpyArray array:
                    if (!array.Shape.SequenceEqual(Shape.Skip(depth)))
                    {
                        throw new DatasetImportException("file", $"{path} is an array of shape {ArraySource.FormatShape(array.Shape)}, unlike the first one ({ArraySource.FormatShape(Shape.Skip(depth))}).");
                    }
                    var type = array.Dtype?.Type ?? throw new DatasetImportException("file", $"{path} is a NumPy array of dtype '{array.Dtype?.Code}', which is not numeric.");
                    var values = new double[array.Shape.Aggregate(1L, (product, dimension) => product * dimension)];
                    var source = array.Fortran ? throw new DatasetImportException("file", $"{path} is a Fortran-ordered array inside a list; use np.ascontiguousarray.") : array.Data;
                    if (source.Length < values.Length * type.Size)
                    {
                        throw new DatasetImportException("file", $"{path} is truncated.");
                    }
                    type.Decode(source, values);
                    ArrayDtype = type.Name;
                    foreach (var number in values)
                    {
                        AddNumber(number, type.IsInteger);
                    }
                    break;
                case string text when depth == Shape.Length:
                    _texts.Add(text);
                    break;
                case long or bool or double or BigInteger when depth == Shape.Length:
                    AddNumber(value switch
                    {
                        long whole => whole,
                        bool flag => flag ? 1 : 0,
                        BigInteger big => (double)big,
                        _ => (double)value,
                    }, value is not double);
                    break;
                case long or bool or double or BigInteger or string:
                    throw Ragged(path, 1, depth);
                default:
                    throw new DatasetImportException("file", $"{path} is a {RestrictedUnpickler.Describe(value)}; features and labels are numbers, text, lists of them or NumPy arrays.");
            }
        }

        private void AddNumber(double number, bool integerType)
        {
            AllIntegers &= integerType;
            FitsInBytes &= number is >= 0 and <= 255 && number == Math.Floor(number);
            _values.Add(number);
        }

        private DatasetImportException Ragged(string path, int count, int depth) => new("file",
            $"{path} has {(depth >= Shape.Length ? "a list" : $"{count} entries")} where the first entry at this depth has {(depth >= Shape.Length ? "a single value" : $"{Shape[depth]}")}: "
            + "every sample needs the same shape.");

        private static IReadOnlyList<object?> Items(object? value) => value as IReadOnlyList<object?> ?? (object?[])value!;
    }
}
