using System.Runtime.InteropServices;
using System.Text;

namespace Experiments.Training.Data;

/// <summary>
/// The compact file an imported dataset is stored in, written once at import and read straight into
/// tensors for training:
/// <code>
/// "EXPDS001"  int32 rank  int32[rank] sampleShape  byte targetKind  int32 targetSize  int64 trainCount  int64 testCount
/// then for train, then test:  float32[count × sampleSize] features,
///   targets: int64[count] class indices (targetKind 0) or float32[count × targetSize] values (targetKind 1)
/// </code>
/// All numbers little-endian.
/// </summary>
public static class DatasetFile
{
    private static readonly byte[] Magic = Encoding.ASCII.GetBytes("EXPDS001");

    /// <summary>Writes to a temporary file and renames it, so a crash never leaves a half-written dataset.</summary>
    public static void Write(string path, int[] sampleShape, DatasetArrays train, DatasetArrays test)
    {
        if (train.Kind != test.Kind || train.TargetSize != test.TargetSize)
        {
            throw new ArgumentException("Both splits need the same kind and size of targets.", nameof(test));
        }
        var temporary = path + ".partial";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
        using (var writer = new BinaryWriter(stream))
        {
            writer.Write(Magic);
            writer.Write(sampleShape.Length);
            foreach (var dimension in sampleShape)
            {
                writer.Write(dimension);
            }
            writer.Write((byte)train.Kind);
            writer.Write(train.TargetSize);
            writer.Write((long)train.Count);
            writer.Write((long)test.Count);
            foreach (var split in new[] { train, test })
            {
                writer.Write(MemoryMarshal.AsBytes(split.Features.AsSpan()));
                if (split.Kind == TargetKind.ClassIndex)
                {
                    writer.Write(MemoryMarshal.AsBytes(split.Labels.AsSpan()));
                }
                else
                {
                    writer.Write(MemoryMarshal.AsBytes(split.Values.AsSpan()));
                }
            }
        }
        File.Move(temporary, path, overwrite: true);
    }

    public static (int[] SampleShape, DatasetArrays Train, DatasetArrays Test) Read(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        using var reader = new BinaryReader(stream);
        if (!reader.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic))
        {
            throw new InvalidDataException($"{path} is not an Experiments dataset file.");
        }
        var shape = new int[reader.ReadInt32()];
        for (var d = 0; d < shape.Length; d++)
        {
            shape[d] = reader.ReadInt32();
        }
        var kind = (TargetKind)reader.ReadByte();
        var targetSize = reader.ReadInt32();
        var sampleSize = shape.Aggregate(1L, (product, dimension) => product * dimension);
        var trainCount = reader.ReadInt64();
        var testCount = reader.ReadInt64();
        var train = ReadSplit(stream, trainCount, sampleSize, kind, targetSize);
        var test = ReadSplit(stream, testCount, sampleSize, kind, targetSize);
        return (shape, train, test);
    }

    private static DatasetArrays ReadSplit(Stream stream, long count, long sampleSize, TargetKind kind, int targetSize)
    {
        var features = new float[count * sampleSize];
        stream.ReadExactly(MemoryMarshal.AsBytes(features.AsSpan()));
        if (kind == TargetKind.ClassIndex)
        {
            var labels = new long[count];
            stream.ReadExactly(MemoryMarshal.AsBytes(labels.AsSpan()));
            return DatasetArrays.Classification(features, labels);
        }
        var values = new float[count * targetSize];
        stream.ReadExactly(MemoryMarshal.AsBytes(values.AsSpan()));
        return DatasetArrays.Regression(features, values, targetSize);
    }
}

public enum TargetKind : byte
{
    /// <summary>One int64 class index per sample.</summary>
    ClassIndex = 0,

    /// <summary><see cref="DatasetArrays.TargetSize"/> float32 values per sample.</summary>
    Values = 1,
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
}
