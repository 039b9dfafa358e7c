using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Experiments.Training.Data.Import;

public enum NumericKind
{
    Bool,
    Int,
    UInt,
    Float,
}

/// <summary>An element type of a binary array (NumPy, IDX, pickled NumPy): kind, size and byte order.</summary>
public sealed record NumericType(NumericKind Kind, int Size, bool BigEndian = false)
{
    public static NumericType Float32 { get; } = new(NumericKind.Float, 4);

    public static NumericType Float64 { get; } = new(NumericKind.Float, 8);

    public static NumericType UInt8 { get; } = new(NumericKind.UInt, 1);

    /// <summary>NumPy's name: float32, uint8, bool, …</summary>
    public string Name => Kind switch
    {
        NumericKind.Bool => "bool",
        NumericKind.Int => $"int{Size * 8}",
        NumericKind.UInt => $"uint{Size * 8}",
        _ => $"float{Size * 8}",
    };

    public bool IsInteger => Kind != NumericKind.Float;

    /// <summary>Every value is a whole number 0..255, so the dataset file can keep it in one byte.</summary>
    public bool FitsInBytes => Kind == NumericKind.Bool || (Kind == NumericKind.UInt && Size == 1);

    /// <summary>
    /// Parses a NumPy type string such as <c>&lt;f4</c>, <c>|u1</c>, <c>&gt;i8</c>, <c>?</c> (kind and size as in
    /// <c>dtype.str</c>, or kind and size alone as a pickled dtype names them). Null for types Experiments does not read.
    /// </summary>
    public static NumericType? FromNumpy(string text, char? byteOrder = null)
    {
        var order = byteOrder ?? '=';
        var code = text;
        if (code.Length > 0 && code[0] is '<' or '>' or '|' or '=')
        {
            order = code[0];
            code = code[1..];
        }
        if (code == "?")
        {
            code = "b1";
        }
        if (code.Length < 2 || !int.TryParse(code.AsSpan(1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var size))
        {
            return null;
        }
        var kind = code[0] switch
        {
            'b' when size == 1 => NumericKind.Bool,
            'i' when size is 1 or 2 or 4 or 8 => NumericKind.Int,
            'u' when size is 1 or 2 or 4 or 8 => NumericKind.UInt,
            'f' when size is 2 or 4 or 8 => NumericKind.Float,
            _ => (NumericKind?)null,
        };
        return kind is null ? null : new NumericType(kind.Value, size, order == '>' || (order == '=' && !BitConverter.IsLittleEndian));
    }

    /// <summary>Converts <paramref name="destination"/>.Length elements from their bytes.</summary>
    public void Decode(ReadOnlySpan<byte> source, Span<float> destination)
    {
        if (Kind == NumericKind.Float && Size == 4 && !BigEndian && BitConverter.IsLittleEndian)
        {
            MemoryMarshal.Cast<byte, float>(source[..(destination.Length * 4)]).CopyTo(destination);
            return;
        }
        if (FitsInBytes)
        {
            for (var i = 0; i < destination.Length; i++)
            {
                destination[i] = source[i];
            }
            return;
        }
        for (var i = 0; i < destination.Length; i++)
        {
            destination[i] = (float)Read(source.Slice(i * Size, Size));
        }
    }

    public void Decode(ReadOnlySpan<byte> source, Span<double> destination)
    {
        for (var i = 0; i < destination.Length; i++)
        {
            destination[i] = Read(source.Slice(i * Size, Size));
        }
    }

    private double Read(ReadOnlySpan<byte> bytes) => (Kind, Size, BigEndian) switch
    {
        (NumericKind.Bool, _, _) => bytes[0] != 0 ? 1 : 0,
        (NumericKind.UInt, 1, _) => bytes[0],
        (NumericKind.Int, 1, _) => (sbyte)bytes[0],
        (NumericKind.Int, 2, false) => BinaryPrimitives.ReadInt16LittleEndian(bytes),
        (NumericKind.Int, 2, true) => BinaryPrimitives.ReadInt16BigEndian(bytes),
        (NumericKind.Int, 4, false) => BinaryPrimitives.ReadInt32LittleEndian(bytes),
        (NumericKind.Int, 4, true) => BinaryPrimitives.ReadInt32BigEndian(bytes),
        (NumericKind.Int, 8, false) => BinaryPrimitives.ReadInt64LittleEndian(bytes),
        (NumericKind.Int, 8, true) => BinaryPrimitives.ReadInt64BigEndian(bytes),
        (NumericKind.UInt, 2, false) => BinaryPrimitives.ReadUInt16LittleEndian(bytes),
        (NumericKind.UInt, 2, true) => BinaryPrimitives.ReadUInt16BigEndian(bytes),
        (NumericKind.UInt, 4, false) => BinaryPrimitives.ReadUInt32LittleEndian(bytes),
        (NumericKind.UInt, 4, true) => BinaryPrimitives.ReadUInt32BigEndian(bytes),
        (NumericKind.UInt, 8, false) => BinaryPrimitives.ReadUInt64LittleEndian(bytes),
        (NumericKind.UInt, 8, true) => BinaryPrimitives.ReadUInt64BigEndian(bytes),
        (NumericKind.Float, 2, false) => (double)BinaryPrimitives.ReadHalfLittleEndian(bytes),
        (NumericKind.Float, 2, true) => (double)BinaryPrimitives.ReadHalfBigEndian(bytes),
        (NumericKind.Float, 4, false) => BinaryPrimitives.ReadSingleLittleEndian(bytes),
        (NumericKind.Float, 4, true) => BinaryPrimitives.ReadSingleBigEndian(bytes),
        (NumericKind.Float, 8, false) => BinaryPrimitives.ReadDoubleLittleEndian(bytes),
        (NumericKind.Float, 8, true) => BinaryPrimitives.ReadDoubleBigEndian(bytes),
        _ => throw new InvalidOperationException($"No decoder for {Name}."),
    };
}
