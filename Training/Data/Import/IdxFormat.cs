using System.Buffers.Binary;

namespace Experiments.Training.Data.Import;

/// <summary>
/// The IDX format of the MNIST files: two zero bytes, an element type, the number of dimensions, each
/// dimension as a big-endian int32, then the big-endian elements. Gzipped files are unpacked by the caller.
/// </summary>
public static class IdxFormat
{
    public static bool Matches(ReadOnlySpan<byte> start) =>
        start.Length >= 4 && start[0] == 0 && start[1] == 0 && TypeOf(start[2]) is not null && start[3] is >= 1 and <= 16;

    public static ArraySource Read(Stream stream, string name, string field)
    {
        var magic = new byte[4];
        if (stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false) < 4 || magic[0] != 0 || magic[1] != 0)
        {
            throw new DatasetImportException(field, $"'{name}' is not an IDX file, or its header is truncated: it must start with two zero bytes, a type code and a dimension count.");
        }
        var type = TypeOf(magic[2])
            ?? throw new DatasetImportException(field, $"'{name}' has IDX type code 0x{magic[2]:X2}; the codes are 0x08 (uint8), 0x09 (int8), 0x0B (int16), 0x0C (int32), 0x0D (float32) and 0x0E (float64).");
        var rank = magic[3];
        if (rank == 0)
        {
            throw new DatasetImportException(field, $"'{name}' declares 0 dimensions; an IDX file holds one entry per sample.");
        }
        var dimensions = new byte[rank * 4];
        if (stream.ReadAtLeast(dimensions, dimensions.Length, throwOnEndOfStream: false) < dimensions.Length)
        {
            throw new DatasetImportException(field, $"'{name}' is truncated inside its IDX header ({rank} dimensions declared).");
        }
        var shape = new long[rank];
        for (var d = 0; d < rank; d++)
        {
            shape[d] = BinaryPrimitives.ReadUInt32BigEndian(dimensions.AsSpan(d * 4));
        }
        return new ArraySource(name, field, type, shape, stream, stream.Position);
    }

    private static NumericType? TypeOf(byte code) => code switch
    {
        0x08 => NumericType.UInt8,
        0x09 => new NumericType(NumericKind.Int, 1, true),
        0x0B => new NumericType(NumericKind.Int, 2, true),
        0x0C => new NumericType(NumericKind.Int, 4, true),
        0x0D => new NumericType(NumericKind.Float, 4, true),
        0x0E => new NumericType(NumericKind.Float, 8, true),
        _ => null,
    };
}
