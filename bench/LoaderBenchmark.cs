using System.Globalization;
using Experiments.Domain.Datasets;
using Experiments.Training.Data;
using static TorchSharp.torch;

namespace Experiments.Bench;

/// <summary>
/// Loads a 50,000 × 784 uint8 dataset file into tensors (bytes, as a run holds it) and measures one epoch of shuffled
/// mini-batches through <see cref="BatchLoader"/> against a bare TorchSharp loop (randperm, narrow, index_select, then the
/// conversion to float32) over the same tensors: the loader must cost next to nothing over the bare gathers.
/// </summary>
public static class LoaderBenchmark
{
    public const string Name = "loader";

    public static Task RunAsync(string[] args)
    {
        var rows = Machine.Option(args, "--rows", 50_000);
        const int columns = 784;
        var folder = Machine.TemporaryFolder();
        try
        {
            var path = Path.Combine(folder, "data.bin");
            var random = new Random(3);
            var features = new float[rows * columns];
            for (var i = 0; i < features.Length; i++)
            {
                features[i] = random.Next(256);
            }
            var labels = Enumerable.Range(0, rows).Select(i => (long)(i % 10)).ToArray();
            var header = new DatasetFileHeader([1, 28, 28], FeatureType.UInt8, TargetKind.ClassIndex, 1, rows, 0);
            using (var writer = new DatasetFileWriter(path, header))
            {
                writer.WriteFeatures(features);
                writer.WriteClassIndices(labels);
                writer.Commit();
            }

            var load = Clock.Start();
            var (shape, train, _) = DatasetFile.Read(path);
            var read = load.Elapsed;
            using var split = TensorSplit.From(train, shape, Preprocessing.None, CPU);
            var total = load.Elapsed;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"load: {rows} samples of [1, 28, 28] from a {new FileInfo(path).Length / 1e6:F1} MB uint8 file: read into arrays {read}, into tensors {total}"));
            Console.WriteLine($"torch threads: {get_num_threads()}");

            foreach (var batchSize in new[] { 64, 256 })
            {
                // One warm-up epoch each, then five measured ones, alternating; the best of each counts.
                Loader(split, batchSize);
                Bare(split, batchSize);
                double loader = 0, bare = 0;
                for (var repeat = 0; repeat < 5; repeat++)
                {
                    loader = Math.Max(loader, Loader(split, batchSize));
                    bare = Math.Max(bare, Bare(split, batchSize));
                }
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"batch {batchSize}: BatchLoader {loader:F0} batches per CPU-second, bare index_select loop {bare:F0}, ratio {loader / bare:F2}"));
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
        return Task.CompletedTask;
    }

    private static double Loader(TensorSplit split, int batchSize)
    {
        using var loader = new BatchLoader(split, batchSize, shuffle: true, seed: 1);
        var clock = Clock.Start();
        loader.StartEpoch();
        for (var b = 0; b < loader.BatchCount; b++)
        {
            using var scope = NewDisposeScope();
            var (inputs, targets) = loader.Batch(b);
            Touch(inputs, targets);
        }
        return loader.BatchCount / clock.Elapsed.CpuSeconds;
    }

    private static double Bare(TensorSplit split, int batchSize)
    {
        using var generator = new Generator(1);
        var clock = Clock.Start();
        using var order = randperm(split.Count, generator: generator);
        long batches = 0;
        for (long start = 0; start < split.Count; start += batchSize, batches++)
        {
            using var scope = NewDisposeScope();
            var indices = order.narrow(0, start, Math.Min(batchSize, split.Count - start));
            Touch(split.Features.index_select(0, indices).to(ScalarType.Float32), split.Labels.index_select(0, indices));
        }
        return batches / clock.Elapsed.CpuSeconds;
    }

    // Reads one value of each batch so that no gather is skipped or deferred.
    private static void Touch(Tensor inputs, Tensor targets) => _ = inputs[0, 0, 0, 0].item<float>() + targets[0].item<long>();
}
