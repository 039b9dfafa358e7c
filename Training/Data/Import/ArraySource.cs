using System.Globalization;

namespace Experiments.Training.Data.Import;

/// <summary>
/// A numeric array of shape [N, …sample] stored in C order at an offset of a seekable stream (an uploaded
/// file, a decompressed entry, a staged CSV, a pickled buffer). Rows are read and converted on demand, so an
/// array of any size is converted with bounded memory.
/// </summary>
public sealed class ArraySource
{
    private readonly Stream _stream;
    private readonly long _offset;
    private byte[] _buffer = [];

    public ArraySource(string name, string field, NumericType type, long[] shape, Stream stream, long offset, bool? fitsInBytes = null)
    {
        Name = name;
        Field = field;
        Type = type;
        Shape = shape;
        _stream = stream;
        _offset = offset;
        if (shape.Length == 0)
        {
            throw new DatasetImportException(field, $"'{name}' is a single number (shape ()); it needs one entry per sample.");
        }
        if (shape.Length > ImportLimits.MaxDimensions)
        {
            throw new DatasetImportException(field, $"'{name}' has {shape.Length} dimensions; at most {ImportLimits.MaxDimensions} are read.");
        }
        if (shape.Any(dimension => dimension < 0))
        {
            throw new DatasetImportException(field, $"'{name}' has a negative dimension in shape {FormatShape(shape)}.");
        }
        long elements;
        try
        {
            elements = shape.Aggregate(1L, (product, dimension) => checked(product * dimension));
            RowLength = checked((int)shape.Skip(1).Aggregate(1L, (product, dimension) => checked(product * dimension)));
            ByteLength = checked(elements * type.Size);
            RowBytes = checked(RowLength * type.Size);
        }
        catch (OverflowException)
        {
            throw new DatasetImportException(field, $"'{name}' declares shape {FormatShape(shape)}, whose size overflows; the header is corrupt.");
        }
        if (RowLength == 0)
        {
            throw new DatasetImportException(field, $"'{name}' has shape {FormatShape(shape)}: its samples have no values. Each sample needs at least one value.");
        }
        var available = stream.Length - offset;
        if (ByteLength > available)
        {
            throw new DatasetImportException(field, $"'{name}' is truncated: shape {FormatShape(shape)} of {type.Name} needs {ByteLength} bytes of data, the file has {Math.Max(0, available)}.");
        }
        FitsInBytes = fitsInBytes ?? type.FitsInBytes;
    }

    /// <summary>How messages name this array: a file field, an NPZ entry, a pickle key.</summary>
    public string Name { get; }

    /// <summary>The request field the array came from.</summary>
    public string Field { get; }

    public NumericType Type { get; }

    public long[] Shape { get; }

    public long Count => Shape[0];

    /// <summary>Values per sample (1 for an array of shape [N]).</summary>
    public int RowLength { get; }

    public long ByteLength { get; }

    public int RowBytes { get; }

    /// <summary>Every value is a whole number 0..255.</summary>
    public bool FitsInBytes { get; }

    /// <summary>One sample's shape: [d1, …] for [N, d1, …], [1] for [N].</summary>
    public int[] SampleShape => Shape.Length == 1 ? [1] : Shape.Skip(1).Select(dimension => checked((int)dimension)).ToArray();

    public void ReadRows(long first, int count, Span<float> destination) =>
        Type.Decode(ReadBytes(first, count), destination[..(count * RowLength)]);

    public void ReadRows(long first, int count, Span<double> destination) =>
        Type.Decode(ReadBytes(first, count), destination[..(count * RowLength)]);

    /// <summary>Every value, for small arrays such as labels.</summary>
    public double[] ReadAll()
    {
        var values = new double[checked(Count * RowLength)];
        var rowsPerChunk = Math.Max(1, (1 << 20) / Math.Max(1, RowLength * Type.Size));
        for (long row = 0; row < Count; row += rowsPerChunk)
        {
            var rows = (int)Math.Min(rowsPerChunk, Count - row);
            ReadRows(row, rows, values.AsSpan(checked((int)(row * RowLength)), rows * RowLength));
        }
        return values;
    }

    private ReadOnlySpan<byte> ReadBytes(long first, int count)
    {
        var length = count * RowBytes;
        if (_buffer.Length < length)
        {
            _buffer = new byte[length];
        }
        _stream.Position = _offset + first * RowBytes;
        _stream.ReadExactly(_buffer, 0, length);
        return _buffer.AsSpan(0, length);
    }

    /// <summary>
    /// An array stored in Fortran (column-major) order, copied into C order in a temporary file: blocks of
    /// rows at a time, each filled with one contiguous read per column, so memory stays bounded.
    /// </summary>
    public static ArraySource FromFortranOrder(string name, string field, NumericType type, long[] shape, Stream stream, long offset, ImportWorkspace workspace)
    {
        var source = new ArraySource(name, field, type, shape, stream, offset);
        if (shape.Length == 1 || source.Count == 0)
        {
            return source;
        }
        var rest = shape.Skip(1).ToArray();
        var rowLength = source.RowLength;
        // Column k in Fortran order is sample position cOf[k] in C order.
        var cOf = new int[rowLength];
        var index = new long[rest.Length];
        for (var k = 0; k < rowLength; k++)
        {
            long c = 0;
            for (var d = 0; d < rest.Length; d++)
            {
                c = c * rest[d] + index[d];
            }
            cOf[k] = (int)c;
            for (var d = 0; d < rest.Length && ++index[d] == rest[d]; d++)
            {
                index[d] = 0;
            }
        }
        var size = type.Size;
        var blockRows = (int)Math.Clamp((32L << 20) / ((long)rowLength * size), 1, source.Count);
        var block = new byte[blockRows * rowLength * size];
        var column = new byte[blockRows * size];
        var output = workspace.CreateFile();
        for (long first = 0; first < source.Count; first += blockRows)
        {
            var rows = (int)Math.Min(blockRows, source.Count - first);
            for (var k = 0; k < rowLength; k++)
            {
                stream.Position = offset + (first + (long)source.Count * k) * size;
                stream.ReadExactly(column, 0, rows * size);
                for (var r = 0; r < rows; r++)
                {
                    Buffer.BlockCopy(column, r * size, block, (r * rowLength + cOf[k]) * size, size);
                }
            }
            output.Write(block, 0, rows * rowLength * size);
        }
        output.Flush();
        return new ArraySource(name, field, type, shape, output, 0);
    }

    public static string FormatShape(IEnumerable<long> shape) =>
        "(" + string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + (shape.Count() == 1 ? ",)" : ")");
}
