using System.IO.Compression;

namespace Experiments.Bench;

/// <summary>
/// The 10k MNIST sample that ships in <c>samples/</c> (8,000 train and 2,000 test digits, uint8), and larger datasets made
/// of it: real digits repeated in order, for benchmarks where what matters is the size (no 60,000-digit MNIST is
/// reachable from this machine).
/// </summary>
public static class MnistSample
{
    public static string Path => System.IO.Path.Combine(ServiceClient.RepositoryRoot(), "samples", "mnist-10k.npz");

    /// <summary>An .npz of x_train, y_train, x_test, y_test as uint8, each the 10k sample's split with its rows repeated to the count.</summary>
    public static void WriteRepeated(string path, int trainRows, int testRows)
    {
        using var sample = ZipFile.OpenRead(Path);
        using var zip = new ZipArchive(File.Create(path), ZipArchiveMode.Create);
        foreach (var (split, rows) in new[] { ("train", trainRows), ("test", testRows) })
        {
            var images = NpyData(sample, $"x_{split}");
            var labels = NpyData(sample, $"y_{split}");
            ImportBenchmark.WriteEntry(zip, $"x_{split}", "|u1", $"({rows}, 28, 28)", stream =>
            {
                for (var row = 0; row < rows; row++)
                {
                    stream.Write(images, row % labels.Length * 784, 784);
                }
            });
            ImportBenchmark.WriteEntry(zip, $"y_{split}", "|u1", $"({rows},)", stream =>
            {
                for (var row = 0; row < rows; row++)
                {
                    stream.WriteByte(labels[row % labels.Length]);
                }
            });
        }
    }

    /// <summary>The elements of an .npy entry of format 1.0: after the magic, the version and the 2-byte length of the header dict.</summary>
    private static byte[] NpyData(ZipArchive zip, string name)
    {
        using var entry = zip.GetEntry(name + ".npy")!.Open();
        using var bytes = new MemoryStream();
        entry.CopyTo(bytes);
        var headerLength = BitConverter.ToUInt16(bytes.GetBuffer(), 8);
        return bytes.ToArray()[(10 + headerLength)..];
    }
}
