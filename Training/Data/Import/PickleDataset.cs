using System.Globalization;
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
            root = RestrictedUnpickler.Load(new BufferedStream(stream, 1 << 16), workspace.Limits);
        }
        catch (PickleLimitException tooLarge)
        {
            throw new DatasetImportException("file", tooLarge.Message, ImportErrorKind.TooLarge);
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
        var reader = new Reader(workspace);
        var (trainFeatures, trainDtype) = reader.Features(dict[resolved.Features!], resolved.Features!);
        var trainLabels = reader.Labels(dict[resolved.Labels!], resolved.Labels!);
        ArraySource? testFeatures = null;
        LabelSource? testLabels = null;
        if (resolved.TestFeatures is not null)
        {
            testFeatures = reader.Features(dict[resolved.TestFeatures], resolved.TestFeatures).Array;
            testLabels = reader.Labels(dict[resolved.TestLabels!], resolved.TestLabels!);
        }
        return new DatasetSource(DatasetFormat.Pickle, trainDtype, trainFeatures, trainLabels, testFeatures, testLabels);
    }

    /// <summary>Reads the dict's values, counting the numbers their lists expand to against <see cref="ImportLimits.MaxPickleElements"/>.</summary>
    private sealed class Reader(ImportWorkspace workspace)
    {
        private long _expanded;

        public (ArraySource Array, string Dtype) Features(object? value, string name)
        {
            if (value is NumpyArray array)
            {
                var source = FromNumpy(array, name, workspace);
                return (source, source.Type.Name);
            }
            var dense = Expand(value, name);
            if (dense.Texts is not null)
            {
                throw new DatasetImportException("file", $"'{name}' holds text ('{dense.Texts[0]}'); features must be numbers.");
            }
            return (dense.ToArray(name), dense.ArrayDtype ?? (dense.AllIntegers ? "int64" : "float64"));
        }

        public LabelSource Labels(object? value, string name)
        {
            if (value is NumpyArray array)
            {
                return LabelSource.FromArray(FromNumpy(array, name, workspace));
            }
            var dense = Expand(value, name);
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

        /// <summary>Measures the lists first, refusing before allocating when they expand past the limit, then flattens them.</summary>
        private Dense Expand(object? value, string name)
        {
            var shape = Dense.ShapeOf(value, name);
            // The values are gathered in one array of doubles, which .NET caps at Array.MaxLength bytes.
            var limit = Math.Min(workspace.Limits.MaxPickleElements, Array.MaxLength / sizeof(double));
            long count;
            try
            {
                count = shape.Aggregate(1L, (product, dimension) => checked(product * dimension));
            }
            catch (OverflowException)
            {
                count = long.MaxValue;
            }
            if (count > limit - _expanded)
            {
                var values = count == long.MaxValue ? "more than 2^63" : count.ToString(CultureInfo.InvariantCulture);
                var before = _expanded > 0 ? string.Create(CultureInfo.InvariantCulture, $", besides the {_expanded} of the keys read before it") : "";
                throw new DatasetImportException("file", string.Create(CultureInfo.InvariantCulture,
                    $"'{name}' expands to {values} values (shape {ArraySource.FormatShape(shape)}){before}: more than the limit of {limit} values a pickle may hold ")
                    + "(set by Experiments:MaxPickleElements). A list referred to many times counts each time; save large data as NumPy arrays (.npz).",
                    ImportErrorKind.TooLarge);
            }
            _expanded += count;
            return Dense.From(value, name, shape, count);
        }
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

    /// <summary>
    /// Nested lists (or tuples) of numbers, NumPy scalars or NumPy arrays, flattened in C order into one array
    /// allocated once. Nesting is at most <see cref="ImportLimits.MaxDimensions"/> deep and a list that contains
    /// itself is refused, so the walk's depth never depends on the file.
    /// </summary>
    private sealed class Dense
    {
        private readonly byte[] _bytes;
        private readonly List<string> _texts = [];
        private readonly object?[] _ancestors;
        private readonly long[] _index;
        private readonly string _name;
        private long _count;

        private Dense(string name, long[] shape, long count)
        {
            _name = name;
            Shape = shape;
            _bytes = new byte[checked(count * sizeof(double))];
            _ancestors = new object?[shape.Length];
            _index = new long[shape.Length];
        }

        public long[] Shape { get; }

        public bool AllIntegers { get; private set; } = true;

        public bool FitsInBytes { get; private set; } = true;

        /// <summary>The dtype of the NumPy arrays the lists hold, when they hold arrays.</summary>
        public string? ArrayDtype { get; private set; }

        public string[]? Texts => _texts.Count > 0 ? [.. _texts] : null;

        private Span<double> Values => MemoryMarshal.Cast<byte, double>(_bytes.AsSpan());

        /// <summary>The shape by the first entry at each depth, followed in a loop; too deep or self-containing lists are refused.</summary>
        public static long[] ShapeOf(object? value, string name)
        {
            var shape = new List<long>();
            var ancestors = new List<object>();
            var current = value;
            while (current is List<object?> or object?[])
            {
                var seen = ancestors.FindIndex(ancestor => ReferenceEquals(ancestor, current));
                if (seen >= 0)
                {
                    throw ContainsItself(FirstEntry(name, ancestors.Count), FirstEntry(name, seen));
                }
                if (ancestors.Count == ImportLimits.MaxDimensions)
                {
                    throw TooDeep(name);
                }
                ancestors.Add(current);
                var items = Items(current);
                shape.Add(items.Count);
                if (items.Count == 0)
                {
                    break;
                }
                current = items[0];
            }
            if (current is NumpyArray array)
            {
                if (shape.Count + array.Shape.Length > ImportLimits.MaxDimensions)
                {
                    throw TooDeep(name);
                }
                shape.AddRange(array.Shape);
            }
            return [.. shape];
        }

        public static Dense From(object? value, string name, long[] shape, long count)
        {
            var dense = new Dense(name, shape, count);
            dense.Add(value, 0);
            if (dense._texts.Count > 0 && dense._count > 0)
            {
                throw new DatasetImportException("file", $"'{name}' mixes numbers and text.");
            }
            return dense;
        }

        /// <summary>The values as an in-memory array: int64 when every value was a whole number (so labels count as integers), else float64.</summary>
        public ArraySource ToArray(string name)
        {
            if (AllIntegers)
            {
                // In place: value i and its int64 occupy the same eight bytes.
                var values = Values;
                var target = MemoryMarshal.Cast<byte, long>(_bytes.AsSpan());
                for (var i = 0; i < values.Length; i++)
                {
                    target[i] = (long)values[i];
                }
            }
            var type = AllIntegers ? new NumericType(NumericKind.Int, 8) : NumericType.Float64;
            return new ArraySource(name, "file", type, Shape, new MemoryStream(_bytes, writable: false), 0, FitsInBytes);
        }

        /// <summary>Recurses once per level of <see cref="Shape"/> (at most 32): a list deeper than the shape is refused as ragged.</summary>
        private void Add(object? value, int depth)
        {
            switch (value)
            {
                case List<object?> or object?[]:
                    var items = Items(value);
                    if (depth >= Shape.Length || items.Count != Shape[depth])
                    {
                        throw Ragged(items.Count, depth);
                    }
                    var seen = Array.FindIndex(_ancestors, 0, depth, ancestor => ReferenceEquals(ancestor, value));
                    if (seen >= 0)
                    {
                        throw ContainsItself(Path(depth), Path(seen));
                    }
                    _ancestors[depth] = value;
                    for (var i = 0; i < items.Count; i++)
                    {
                        _index[depth] = i;
                        Add(items[i], depth + 1);
                    }
                    _ancestors[depth] = null;
                    break;
                case NumpyArray array:
                    AddArray(array, depth);
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
                    throw Ragged(1, depth);
                default:
                    throw new DatasetImportException("file", $"{Path(depth)} is a {RestrictedUnpickler.Describe(value)}; features and labels are numbers, text, lists of them or NumPy arrays.");
            }
        }

        private void AddArray(NumpyArray array, int depth)
        {
            if (!array.Shape.SequenceEqual(Shape.Skip(depth)))
            {
                throw new DatasetImportException("file", $"{Path(depth)} is an array of shape {ArraySource.FormatShape(array.Shape)}, unlike the first one ({ArraySource.FormatShape(Shape.Skip(depth))}).");
            }
            var type = array.Dtype?.Type ?? throw new DatasetImportException("file", $"{Path(depth)} is a NumPy array of dtype '{array.Dtype?.Code}', which is not numeric.");
            var source = array.Fortran ? throw new DatasetImportException("file", $"{Path(depth)} is a Fortran-ordered array inside a list; use np.ascontiguousarray.") : array.Data;
            // Its shape is the rest of Shape, whose product fits in the values allocated.
            var length = (int)array.Shape.Aggregate(1L, (product, dimension) => product * dimension);
            if (source.LongLength < (long)length * type.Size)
            {
                throw new DatasetImportException("file", $"{Path(depth)} is truncated.");
            }
            var values = Values.Slice((int)_count, length);
            type.Decode(source, values);
            ArrayDtype = type.Name;
            foreach (var number in values)
            {
                Observe(number, type.IsInteger);
            }
            _count += length;
        }

        private void AddNumber(double number, bool integerType)
        {
            Observe(number, integerType);
            Values[(int)_count++] = number;
        }

        private void Observe(double number, bool integerType)
        {
            AllIntegers &= integerType;
            FitsInBytes &= number is >= 0 and <= 255 && number == Math.Floor(number);
        }

        /// <summary>Where the walk is, as Python indexes it: training_data[3][1].</summary>
        private string Path(int depth) => _name + string.Concat(_index.Take(depth).Select(i => string.Create(CultureInfo.InvariantCulture, $"[{i}]")));

        private DatasetImportException Ragged(int count, int depth) => new("file",
            $"{Path(depth)} has {(depth >= Shape.Length ? "a list" : $"{count} entries")} where the first entry at this depth has {(depth >= Shape.Length ? "a single value" : $"{Shape[depth]}")}: "
            + "every sample needs the same shape.");

        private static string FirstEntry(string name, int depth) => name + string.Concat(Enumerable.Repeat("[0]", depth));

        private static DatasetImportException TooDeep(string name) => new("file",
            $"'{name}' is nested more than {ImportLimits.MaxDimensions} levels deep (lists in lists, or arrays in them); samples have at most {ImportLimits.MaxDimensions} dimensions.");

        private static DatasetImportException ContainsItself(string path, string container) => new("file",
            $"{path} is the list {container} itself: the pickle's lists contain themselves (as after L.append(L)), which is no array of numbers.");

        private static IReadOnlyList<object?> Items(object? value) => value as IReadOnlyList<object?> ?? (object?[])value!;
    }
}
