using System.Runtime.InteropServices;
using System.Text;

namespace Experiments.Training.Data;

/// <summary>
/// The compact file an imported dataset is stored in, written once at import and read straight into
/// arrays of the stored type for training (bytes stay bytes: a run converts them per batch, see <see cref="TensorSplit"/>):
/// <code>
/// "EXPDS002"  int32 rank  int32[rank] sampleShape  byte featureType  byte targetKind  int32 targetSize  int64 trainCount  int64 testCount
/// then for train, then test:  features [count × sampleSize] as float32 (featureType 0) or uint8 (featureType 1),
///   targets: int64[count] class indices (targetKind 0) or float32[count × targetSize] values (targetKind 1)
/// </code>
/// All numbers little-endian. Features that are whole numbers 0..255 (images) are kept as bytes, a quarter
/// of the size. Files of the first version ("EXPDS001", float32 features, no featureType byte) are read too.
/// </summary>
public static class DatasetFile
{
    private static readonly byte[] Magic = Encoding.ASCII.GetBytes("EXPDS002");
    private static readonly byte[] MagicVersion1 = Encoding.ASCII.GetBytes("EXPDS001");

    /// <summary>Writes two in-memory splits of float32 features.</summary>
    public static void Write(string path, int[] sampleShape, DatasetArrays train, DatasetArrays test)
    {
        if (train.Features.Type != FeatureType.Float32 || test.Features.Type != FeatureType.Float32)
        {
            throw new ArgumentException("Both splits need float32 features.", nameof(train));
        }
        if (train.Kind != test.Kind || train.TargetSize != test.TargetSize)
        {
            throw new ArgumentException("Both splits need the same kind and size of targets.", nameof(test));
        }
        var header = new DatasetFileHeader(sampleShape, FeatureType.Float32, train.Kind, train.TargetSize, train.Count, test.Count);
        using var writer = new DatasetFileWriter(path, header);
        foreach (var split in new[] { train, test })
        {
            writer.WriteFeatures(split.Features.Floats);
            if (split.Kind == TargetKind.ClassIndex)
            {
                writer.WriteClassIndices(split.Labels);
            }
            else
            {
                writer.WriteValues(split.Values);
            }
        }
        writer.Commit();
    }

    public static DatasetFileHeader ReadHeader(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 4096);
        return ReadHeader(stream, path);
    }

    public static (int[] SampleShape, DatasetArrays Train, DatasetArrays Test) Read(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var header = ReadHeader(stream, path);
        var train = ReadSplit(stream, header, header.TrainCount);
        var test = ReadSplit(stream, header, header.TestCount);
        return (header.SampleShape, train, test);
    }

    /// <summary>Reads <paramref name="count"/> samples from <paramref name="start"/> of one split, as stored, without reading the rest.</summary>
    public static DatasetArrays ReadSamples(string path, bool testSplit, long start, int count)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var header = ReadHeader(stream, path);
        var splitCount = testSplit ? header.TestCount : header.TrainCount;
        ArgumentOutOfRangeException.ThrowIfGreaterThan(start + count, splitCount, nameof(count));
        var splitStart = testSplit ? header.DataOffset + header.SplitBytes(header.TrainCount) : header.DataOffset;
        stream.Position = splitStart + start * header.SampleSize * header.FeatureBytes;
        var features = ReadFeatures(stream, header, count);
        stream.Position = splitStart + splitCount * header.SampleSize * header.FeatureBytes + start * header.TargetBytes;
        return ReadTargets(stream, header, features, count);
    }

    /// <summary>
    /// The samples at <paramref name="rows"/> of one split, in that order, as stored (no preprocessing), with the file's
    /// header: each row is read where it lies, without reading the rest.
    /// </summary>
    public static (DatasetFileHeader Header, DatasetArrays Samples) ReadRows(string path, bool testSplit, IReadOnlyList<int> rows)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var header = ReadHeader(stream, path);
        var splitCount = testSplit ? header.TestCount : header.TrainCount;
        var splitStart = testSplit ? header.DataOffset + header.SplitBytes(header.TrainCount) : header.DataOffset;
        var targetsStart = splitStart + splitCount * header.SampleSize * header.FeatureBytes;
        var sampleBytes = checked((int)(header.SampleSize * header.FeatureBytes));
        var features = new byte[checked(rows.Count * sampleBytes)];
        var targets = new byte[checked(rows.Count * header.TargetBytes)];
        for (var i = 0; i < rows.Count; i++)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(rows[i], nameof(rows));
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(rows[i], splitCount, nameof(rows));
            stream.Position = splitStart + rows[i] * (long)sampleBytes;
            stream.ReadExactly(features, i * sampleBytes, sampleBytes);
            stream.Position = targetsStart + rows[i] * (long)header.TargetBytes;
            stream.ReadExactly(targets, i * header.TargetBytes, header.TargetBytes);
        }
        using var gatheredFeatures = new MemoryStream(features);
        using var gatheredTargets = new MemoryStream(targets);
        return (header, ReadTargets(gatheredTargets, header, ReadFeatures(gatheredFeatures, header, rows.Count), rows.Count));
    }

    private static DatasetFileHeader ReadHeader(Stream stream, string path)
    {
        using var reader = new BinaryReader(stream, Encoding.ASCII, leaveOpen: true);
        var magic = reader.ReadBytes(Magic.Length);
        var version1 = magic.AsSpan().SequenceEqual(MagicVersion1);
        if (!version1 && !magic.AsSpan().SequenceEqual(Magic))
        {
            throw new InvalidDataException($"{path} is not an Experiments dataset file.");
        }
        var shape = new int[reader.ReadInt32()];
        for (var d = 0; d < shape.Length; d++)
        {
            shape[d] = reader.ReadInt32();
        }
        var featureType = version1 ? FeatureType.Float32 : (FeatureType)reader.ReadByte();
        var kind = (TargetKind)reader.ReadByte();
        var targetSize = reader.ReadInt32();
        var trainCount = reader.ReadInt64();
        var testCount = reader.ReadInt64();
        return new DatasetFileHeader(shape, featureType, kind, targetSize, trainCount, testCount) { DataOffset = stream.Position };
    }

    private static DatasetArrays ReadSplit(Stream stream, DatasetFileHeader header, long count) =>
        ReadTargets(stream, header, ReadFeatures(stream, header, count), count);

    /// <summary>The features of <paramref name="count"/> samples in the file's type: float32, or the bytes themselves.</summary>
    private static StoredFeatures ReadFeatures(Stream stream, DatasetFileHeader header, long count)
    {
        if (header.FeatureType == FeatureType.UInt8)
        {
            var bytes = new byte[count * header.SampleSize];
            stream.ReadExactly(bytes);
            return StoredFeatures.UInt8(bytes);
        }
        var floats = new float[count * header.SampleSize];
        stream.ReadExactly(MemoryMarshal.AsBytes(floats.AsSpan()));
        return StoredFeatures.Float32(floats);
    }

    private static DatasetArrays ReadTargets(Stream stream, DatasetFileHeader header, StoredFeatures features, long count)
    {
        if (header.TargetKind == TargetKind.ClassIndex)
        {
            var labels = new long[count];
            stream.ReadExactly(MemoryMarshal.AsBytes(labels.AsSpan()));
            return DatasetArrays.Classification(features, labels);
        }
        var values = new float[count * header.TargetSize];
        stream.ReadExactly(MemoryMarshal.AsBytes(values.AsSpan()));
        return DatasetArrays.Regression(features, values, header.TargetSize);
    }
}

/// <summary>How features are stored in the file.</summary>
public enum FeatureType : byte
{
    Float32 = 0,

    /// <summary>Whole numbers 0..255, one byte each.</summary>
    UInt8 = 1,
}

public enum TargetKind : byte
{
    /// <summary>One int64 class index per sample.</summary>
    ClassIndex = 0,

    /// <summary><see cref="DatasetArrays.TargetSize"/> float32 values per sample.</summary>
    Values = 1,
}

/// <summary>What a dataset file holds, read from its first bytes.</summary>
public sealed record DatasetFileHeader(int[] SampleShape, FeatureType FeatureType, TargetKind TargetKind, int TargetSize, long TrainCount, long TestCount)
{
    public long SampleSize => SampleShape.Aggregate(1L, (product, dimension) => product * dimension);

    public int FeatureBytes => FeatureType == FeatureType.UInt8 ? 1 : sizeof(float);

    public int TargetBytes => TargetKind == TargetKind.ClassIndex ? sizeof(long) : TargetSize * sizeof(float);

    /// <summary>Where the first split's features start.</summary>
    public long DataOffset { get; init; }

    internal long SplitBytes(long count) => count * (SampleSize * FeatureBytes + TargetBytes);
}

/// <summary>
/// Writes a dataset file sample by sample, so that a dataset of any size is converted with bounded memory:
/// the train split's features, its targets, then the test split's. The file appears under its name only
/// on <see cref="Commit"/>; disposing without committing deletes what was written.
/// </summary>
public sealed class DatasetFileWriter : IDisposable
{
    private static readonly byte[] Magic = Encoding.ASCII.GetBytes("EXPDS002");
    private readonly string _path;
    private readonly string _temporary;
    private readonly DatasetFileHeader _header;
    private readonly FileStream _stream;
    private readonly byte[] _bytes = new byte[1 << 16];
    private readonly long _expectedBytes;
    private bool _committed;

    public DatasetFileWriter(string path, DatasetFileHeader header)
    {
        _path = path;
        _header = header;
        _temporary = path + ".partial";
        _stream = new FileStream(_temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        using var writer = new BinaryWriter(_stream, Encoding.ASCII, leaveOpen: true);
        writer.Write(Magic);
        writer.Write(header.SampleShape.Length);
        foreach (var dimension in header.SampleShape)
        {
            writer.Write(dimension);
        }
        writer.Write((byte)header.FeatureType);
        writer.Write((byte)header.TargetKind);
        writer.Write(header.TargetSize);
        writer.Write(header.TrainCount);
        writer.Write(header.TestCount);
        writer.Flush();
        _expectedBytes = _stream.Position + header.SplitBytes(header.TrainCount) + header.SplitBytes(header.TestCount);
    }

    /// <summary>Appends features, converted to the file's feature type (bytes are rounded; the caller checked they are 0..255).</summary>
    public void WriteFeatures(ReadOnlySpan<float> features)
    {
        if (_header.FeatureType == FeatureType.Float32)
        {
            _stream.Write(MemoryMarshal.AsBytes(features));
            return;
        }
        while (!features.IsEmpty)
        {
            var chunk = Math.Min(features.Length, _bytes.Length);
            for (var i = 0; i < chunk; i++)
            {
                _bytes[i] = (byte)features[i];
            }
            _stream.Write(_bytes, 0, chunk);
            features = features[chunk..];
        }
    }

    public void WriteClassIndices(ReadOnlySpan<long> labels) => _stream.Write(MemoryMarshal.AsBytes(labels));

    public void WriteValues(ReadOnlySpan<float> values) => _stream.Write(MemoryMarshal.AsBytes(values));

    /// <summary>Checks that exactly the announced samples were written, then renames the file into place.</summary>
    public void Commit()
    {
        _stream.Flush();
        if (_stream.Length != _expectedBytes)
        {
            throw new InvalidOperationException($"The dataset file got {_stream.Length} bytes; its header announces {_expectedBytes}.");
        }
        _stream.Dispose();
        File.Move(_temporary, _path, overwrite: true);
        _committed = true;
    }

    public void Dispose()
    {
        _stream.Dispose();
        if (!_committed)
        {
            File.Delete(_temporary);
        }
    }
}

/// <summary>
/// One split in memory: features row-major as the file stores them (<see cref="StoredFeatures"/>), and per sample either a
/// class index (classification) or <see cref="TargetSize"/> values (regression).
/// </summary>
public sealed class DatasetArrays
{
    private DatasetArrays(StoredFeatures features, TargetKind kind, long[] labels, float[] values, int count, int targetSize)
    {
        if (count > 0 && features.Length % count != 0)
        {
            throw new ArgumentException($"{features.Length} feature values are not a whole number of samples for {count} targets.", nameof(features));
        }
        Features = features;
        Kind = kind;
        Labels = labels;
        Values = values;
        Count = count;
        TargetSize = targetSize;
        SampleSize = count == 0 ? 0 : checked((int)(features.Length / count));
    }

    public StoredFeatures Features { get; }

    public TargetKind Kind { get; }

    /// <summary>Class indices; empty for regression.</summary>
    public long[] Labels { get; }

    /// <summary>Regression targets, row-major [Count × TargetSize]; empty for classification.</summary>
    public float[] Values { get; }

    public int Count { get; }

    public int TargetSize { get; }

    /// <summary>Feature values per sample (0 for an empty split).</summary>
    public int SampleSize { get; }

    public static DatasetArrays Classification(StoredFeatures features, long[] labels) =>
        new(features, TargetKind.ClassIndex, labels, [], labels.Length, 1);

    public static DatasetArrays Regression(StoredFeatures features, float[] values, int targetSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(targetSize, 1);
        return new(features, TargetKind.Values, [], values, values.Length / targetSize, targetSize);
    }

    /// <summary>One sample's features as float32, as stored (bytes widened, no preprocessing).</summary>
    public float[] Sample(int row)
    {
        var sample = new float[SampleSize];
        Features.CopyTo((long)row * SampleSize, sample);
        return sample;
    }

    /// <summary>One sample's features as the file stores them, byte for byte: equal samples have equal bytes.</summary>
    public ReadOnlySpan<byte> SampleBytes(int row) => Features.RawBytes((long)row * SampleSize, SampleSize);

    /// <summary>The samples at <paramref name="rows"/>, in that order, copied.</summary>
    public DatasetArrays Take(IReadOnlyList<int> rows)
    {
        var features = Features.Take(rows, SampleSize);
        if (Kind == TargetKind.ClassIndex)
        {
            return Classification(features, [.. rows.Select(row => Labels[row])]);
        }
        var values = new float[checked(rows.Count * TargetSize)];
        for (var i = 0; i < rows.Count; i++)
        {
            Values.AsSpan(rows[i] * TargetSize, TargetSize).CopyTo(values.AsSpan(i * TargetSize));
        }
        return Regression(features, values, TargetSize);
    }

    /// <summary>This split's samples followed by <paramref name="other"/>'s, copied: both store the same type of features and targets.</summary>
    public DatasetArrays Concat(DatasetArrays other)
    {
        if (other.Kind != Kind || other.TargetSize != TargetSize)
        {
            throw new ArgumentException("Both splits need the same kind and size of targets.", nameof(other));
        }
        var features = Features.Concat(other.Features);
        return Kind == TargetKind.ClassIndex
            ? Classification(features, [.. Labels, .. other.Labels])
            : Regression(features, [.. Values, .. other.Values], TargetSize);
    }
}

/// <summary>
/// Feature values row-major in the type the dataset file stores them: float32, or one byte each for whole numbers 0..255
/// (a quarter of the size). Exactly one of <see cref="Floats"/> and <see cref="Bytes"/> holds them. Never written after
/// it is made: a <see cref="TensorSplit"/> on the CPU shares its memory.
/// </summary>
public sealed class StoredFeatures
{
    private StoredFeatures(FeatureType type, float[] floats, byte[] bytes)
    {
        Type = type;
        Floats = floats;
        Bytes = bytes;
    }

    public FeatureType Type { get; }

    /// <summary>The values when stored as float32; empty otherwise.</summary>
    public float[] Floats { get; }

    /// <summary>The values when stored as bytes; empty otherwise.</summary>
    public byte[] Bytes { get; }

    public long Length => Type == FeatureType.UInt8 ? Bytes.LongLength : Floats.LongLength;

    public static StoredFeatures Float32(float[] values) => new(FeatureType.Float32, values, []);

    public static StoredFeatures UInt8(byte[] values) => new(FeatureType.UInt8, [], values);

    /// <summary>Values from <paramref name="start"/> as float32 into <paramref name="destination"/>, as many as it holds.</summary>
    public void CopyTo(long start, Span<float> destination)
    {
        if (Type == FeatureType.Float32)
        {
            Floats.AsSpan(checked((int)start), destination.Length).CopyTo(destination);
            return;
        }
        var bytes = Bytes.AsSpan(checked((int)start), destination.Length);
        for (var i = 0; i < bytes.Length; i++)
        {
            destination[i] = bytes[i];
        }
    }

    /// <summary>The stored bytes of <paramref name="count"/> values from <paramref name="start"/>.</summary>
    public ReadOnlySpan<byte> RawBytes(long start, int count) => Type == FeatureType.UInt8
        ? Bytes.AsSpan(checked((int)start), count)
        : MemoryMarshal.AsBytes(Floats.AsSpan(checked((int)start), count));

    /// <summary>The samples at <paramref name="rows"/> (each <paramref name="sampleSize"/> values), in that order, copied.</summary>
    public StoredFeatures Take(IReadOnlyList<int> rows, int sampleSize) => Type == FeatureType.UInt8
        ? UInt8(TakeRows(Bytes, rows, sampleSize))
        : Float32(TakeRows(Floats, rows, sampleSize));

    /// <summary>These values followed by <paramref name="other"/>'s, copied; both of the same type.</summary>
    public StoredFeatures Concat(StoredFeatures other)
    {
        if (other.Type != Type)
        {
            throw new ArgumentException($"Features stored as {Type} cannot be joined with features stored as {other.Type}.", nameof(other));
        }
        return Type == FeatureType.UInt8 ? UInt8([.. Bytes, .. other.Bytes]) : Float32([.. Floats, .. other.Floats]);
    }

    private static T[] TakeRows<T>(T[] values, IReadOnlyList<int> rows, int sampleSize)
    {
        var taken = new T[checked(rows.Count * sampleSize)];
        for (var i = 0; i < rows.Count; i++)
        {
            values.AsSpan(checked(rows[i] * sampleSize), sampleSize).CopyTo(taken.AsSpan(i * sampleSize));
        }
        return taken;
    }
}
