using System.Runtime.InteropServices;
using System.Text;

namespace Experiments.Training.Data;

/// <summary>
/// The compact file an imported dataset is stored in, written once at import and read straight into
/// tensors for training:
/// <code>
/// "EXPDS001"  int32 rank  int32[rank] sampleShape  int64 trainCount  int64 testCount
/// float32[trainCount × sampleSize] trainFeatures  int64[trainCount] trainLabels
/// float32[testCount × sampleSize]  testFeatures   int64[testCount]  testLabels
/// </code>
/// All numbers little-endian.
/// </summary>
public static class DatasetFile
{
    private static readonly byte[] Magic = Encoding.ASCII.GetBytes("EXPDS001");

    /// <summary>Writes to a temporary file and renames it, so a crash never leaves a half-written dataset.</summary>
    public static void Write(string path, int[] sampleShape, DatasetArrays train, DatasetArrays test)
    {
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
            writer.Write((long)train.Count);
            writer.Write((long)test.Count);
            foreach (var split in new[] { train, test })
            {
                writer.Write(MemoryMarshal.AsBytes(split.Features.AsSpan()));
                writer.Write(MemoryMarshal.AsBytes(split.Labels.AsSpan()));
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
        var sampleSize = shape.Aggregate(1L, (product, dimension) => product * dimension);
        var trainCount = reader.ReadInt64();
        var testCount = reader.ReadInt64();
        var train = ReadSplit(stream, trainCount, sampleSize);
        var test = ReadSplit(stream, testCount, sampleSize);
        return (shape, train, test);
    }

    private static DatasetArrays ReadSplit(Stream stream, long count, long sampleSize)
    {
        var features = new float[count * sampleSize];
        var labels = new long[count];
        stream.ReadExactly(MemoryMarshal.AsBytes(features.AsSpan()));
        stream.ReadExactly(MemoryMarshal.AsBytes(labels.AsSpan()));
        return new DatasetArrays(features, labels);
    }
}

/// <summary>One split in memory: features row-major, one label (class index) per sample.</summary>
public sealed record DatasetArrays(float[] Features, long[] Labels)
{
    public int Count => Labels.Length;
}
