using System.Runtime.InteropServices;
using System.Text;

namespace Experiments.Training.Data;

/// <summary>
/// The compact file an imported dataset is stored in, written once at import and read straight into
/// arrays for training:
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

    /// <summary>Writes two in-memory splits (float32 features).</summary>
    public static void Write(string path, int[] sampleShape, DatasetArrays train, DatasetArrays test)
    {
        if (train.Kind != test.Kind || train.TargetSize != test.TargetSize)
        {
            throw new ArgumentException("Both splits need the same kind and size of targets.", nameof(test));
        }
        var header = new DatasetFileHeader(sampleShape, FeatureType.Float32, train.Kind, train.TargetSize, train.Count, test.Count);
        using var writer = new DatasetFileWriter(path, header);
        foreach (var split in new[] { train, test })
        {
            writer.WriteFeatures(split.Features);
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

    /// <summary>Reads <paramref name="count"/> samples from <paramref name="start"/> of one split, without reading the rest.</summary>
    public static DatasetArrays ReadSamples(string path, bool testSplit, long start, int count)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var header = ReadHeader(stream, path);
        var splitCount = testSplit ? header.TestCount : header.TrainCount;
        ArgumentOutOfRangeException.ThrowIfGreaterThan(start + count, splitCount, nameof(count));
        var splitStart = testSplit ? header.DataOffset + header.SplitBytes(header.TrainCount) : header.DataOffset;
        var features = new float[count * header.SampleSize];
        stream.Position = splitStart + start * header.SampleSize * header.FeatureBytes;
        ReadFeatures(stream, header.FeatureType, features);
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
        var sampleSize = checked((int)header.SampleSize);
        var features = new float[checked(rows.Count * sampleSize)];
        var targets = new byte[checked(rows.Count * header.TargetBytes)];
        for (var i = 0; i < rows.Count; i++)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(rows[i], nameof(rows));
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(rows[i], splitCount, nameof(rows));
            stream.Position = splitStart + rows[i] * header.SampleSize * header.FeatureBytes;
            ReadFeatures(stream, header.FeatureType, features.AsSpan(i * sampleSize, sampleSize));
            stream.Position = targetsStart + rows[i] * (long)header.TargetBytes;
            stream.ReadExactly(targets, i * header.TargetBytes, header.TargetBytes);
        }
        using var gathered = new MemoryStream(targets);
        return (header, ReadTargets(gathered, header, features, rows.Count));
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

    private static DatasetArrays ReadSplit(Stream stream, DatasetFileHeader header, long count)
    {
        var features = new float[count * header.SampleSize];
        ReadFeatures(stream, header.FeatureType, features);
        return ReadTargets(stream, header, features, count);
    }

    private static DatasetArrays ReadTargets(Stream stream, DatasetFileHeader header, float[] features, long count)
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

    private static void ReadFeatures(Stream stream, FeatureType type, Span<float> features)
    {
        if (type == FeatureType.Float32)
        {
            stream.ReadExactly(MemoryMarshal.AsBytes(features));
            return;
        }
        var buffer = new byte[Math.Min(features.Length, 1 << 20)];
        for (var done = 0; done < features.Length;)
        {
            var chunk = Math.Min(buffer.Length, features.Length - done);
            stream.ReadExactly(buffer, 0, chunk);
            var target = features.Slice(done, chunk);
            for (var i = 0; i < chunk; i++)
            {
                target[i] = buffer[i];
            }
            done += chunk;
        }
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
/// One split in memory: features row-major, and per sample either a class index (classification) or
/// <see cref="TargetSize"/> values (regression).
/// </summary>
public sealed class DatasetArrays
{
    private DatasetArrays(float[] features, TargetKind kind, long[] labels, float[] values, int count, int targetSize)
    {
        Features = features;
        Kind = kind;
        Labels = labels;
        Values = values;
        Count = count;
        TargetSize = targetSize;
    }

    public float[] Features { get; }

    public TargetKind Kind { get; }

    /// <summary>Class indices; empty for regression.</summary>
    public long[] Labels { get; }

    /// <summary>Regression targets, row-major [Count × TargetSize]; empty for classification.</summary>
    public float[] Values { get; }

    public int Count { get; }

    public int TargetSize { get; }

    public static DatasetArrays Classification(float[] features, long[] labels) =>
        new(features, TargetKind.ClassIndex, labels, [], labels.Length, 1);

    public static DatasetArrays Regression(float[] features, float[] values, int targetSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(targetSize, 1);
        return new(features, TargetKind.Values, [], values, values.Length / targetSize, targetSize);
    }

    /// <summary>The samples at <paramref name="rows"/>, in that order, copied.</summary>
    public DatasetArrays Take(IReadOnlyList<int> rows)
    {
        var sampleSize = Count == 0 ? 0 : Features.Length / Count;
        var features = new float[checked(rows.Count * sampleSize)];
        for (var i = 0; i < rows.Count; i++)
        {
            Features.AsSpan(rows[i] * sampleSize, sampleSize).CopyTo(features.AsSpan(i * sampleSize));
        }
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
}
