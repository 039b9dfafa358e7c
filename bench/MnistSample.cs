using System.IO.Compression;
using System.Text;

namespace Experiments.Bench;

/// <summary>
/// The 10k MNIST sample that ships in <c>samples/</c> (8,000 train and 2,000 test digits, uint8), and larger datasets made
/// of it: real digits repeated in order, for benchmarks where what matters is the size (no 60,000-digit MNIST is
/// reachable from this machine).
/// </summary>
public static class MnistSample
{
    public static string Path => System.IO.Path.Combine(ServiceClient.RepositoryRoot(), "samples", "mnist-10k.npz");

    /// <summary>Writes an .npz with <paramref name="trainRows"/> training and <paramref name="testRows"/> test digits, the sample's repeated.</summary>
    public static void WriteRepeated(string path, int trainRows, int testRows)
    {
        using var source = ZipFile.OpenRead(Path);
        using var target = ZipFile.Open(path, ZipArchiveMode.Create);
        foreach (var (name, rows) in new[] { ("x_train", trainRows), ("y_train", trainRows), ("x_test", testRows), ("y_test", testRows) })
        {
            var (sampleShape, data) = ReadUInt8(source.GetEntry($"{name}.npy")!);
            var sampleSize = sampleShape.Aggregate(1, (product, dimension) => product * dimension);
            var count = data.Length / sampleSize;
            var entry = target.CreateEntry($"{name}.npy", CompressionLevel.Fastest);
            using var stream = entry.Open();
            var shape = string.Join(", ", new[] { rows }.Concat(sampleShape)) + (sampleShape.Length == 0 ? "," : "");
            WriteHeader(stream, $"{{'descr': '|u1', 'fortran_order': False, 'shape': ({shape}), }}");
            for (var row = 0; row < rows; row++)
            {
                stream.Write(data, row % count * sampleSize, sampleSize);
            }
        }
    }

    private static (int[] SampleShape, byte[] Data) ReadUInt8(ZipArchiveEntry entry)
    {
        using var stream = entry.Open();
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        var bytes = buffer.ToArray();
        var headerLength = BitConverter.ToUInt16(bytes, 8);
        var header = Encoding.ASCII.GetString(bytes, 10, headerLength);
        var shapeText = header[(header.IndexOf("'shape': (", StringComparison.Ordinal) + 10)..];
        var dimensions = shapeText[..shapeText.IndexOf(')')].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(int.Parse).ToArray();
        return (dimensions[1..], bytes[(10 + headerLength)..]);
    }

    private static void WriteHeader(Stream stream, string dictionary)
    {
        // Magic, version 1.0, then the header padded with spaces to a multiple of 64 bytes, ending in a newline.
        var length = 10 + dictionary.Length + 1;
        var padded = dictionary + new string(' ', (64 - length % 64) % 64) + "\n";
        stream.Write("\x93NUMPY"u8);
        stream.Write([1, 0]);
        stream.Write(BitConverter.GetBytes((ushort)padded.Length));
        stream.Write(Encoding.ASCII.GetBytes(padded));
    }
}
