using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using Experiments.Domain.Runs;

namespace Experiments.Bench;

/// <summary>Benchmarks of the service as users meet it: a child process on loopback, driven over HTTP and SignalR.</summary>
public static class ServiceBenchmarks
{
    private const string IrisMlp = """[{"type":"linear","outFeatures":16},{"type":"relu"},{"type":"linear","outFeatures":3}]""";

    /// <summary>Start latency: POST /api/runs to the first batch trained (its BatchProgress event arriving here), on an idle service.</summary>
    public static async Task LatencyAsync(string[] args)
    {
        var count = Machine.Option(args, "--runs", 20);
        await using var service = await ServiceClient.StartAsync(NewDataFolder());
        var (datasetId, modelId) = await IrisAsync(service);
        await WarmUpAsync(service, datasetId, modelId);
        var latencies = new List<double>();
        for (var i = 0; i < count; i++)
        {
            var posted = Stopwatch.GetTimestamp();
            var run = await service.CreateRunAsync(Spec(datasetId, modelId, epochs: 1));
            await service.WaitUntilFinishedAsync(run.Id);
            var first = service.Batches.Where(b => b.Event.RunId == run.Id).Min(b => b.ArrivedAt);
            latencies.Add(Stats.Seconds(posted, first));
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"POST /api/runs → first batch, {count} runs: p50 {Stats.Percentile(latencies, 50) * 1000:F0} ms, p95 {Stats.Percentile(latencies, 95) * 1000:F0} ms, max {latencies.Max() * 1000:F0} ms"));
    }

    /// <summary>
    /// Resident memory of the service: idle, during an MNIST run, and after 5 and after 30 sequential short runs; then the
    /// peak of a run on an MNIST-sized uint8 dataset (<c>--rows</c> training images) against the dataset's size.
    /// </summary>
    public static async Task MemoryAsync(string[] args)
    {
        var runs = Machine.Option(args, "--runs", 30);
        var rows = Machine.Option(args, "--rows", 60_000);
        await using var service = await ServiceClient.StartAsync(NewDataFolder());
        await Task.Delay(2000);
        var idle = service.Service.ResidentBytes();
        var (datasetId, modelId) = await IrisAsync(service);

        var mnist = await service.ImportAsync(MnistSample.Path, ("name", "mnist"), ("scale", "1/255"), ("reshape", "1,28,28"));
        var cnn = await service.CreateModelAsync("bench-cnn", OverheadBenchmark.Models[1].Layers);
        var mnistRun = await service.CreateRunAsync(Spec(mnist.Id, cnn.Id, epochs: 3, batchSize: 64));
        long duringPeak = 0;
        while (service.Epochs.Count(e => e.Event.RunId == mnistRun.Id) < 3)
        {
            duringPeak = Math.Max(duringPeak, service.Service.ResidentBytes());
            await Task.Delay(200);
        }
        await service.WaitUntilFinishedAsync(mnistRun.Id);

        var after = new Dictionary<int, long>();
        for (var i = 1; i <= runs; i++)
        {
            var run = await service.CreateRunAsync(Spec(datasetId, modelId, epochs: 5));
            await service.WaitUntilFinishedAsync(run.Id);
            if (i is 5 or 10 or 20 || i == runs)
            {
                await Task.Delay(500);
                after[i] = service.Service.ResidentBytes();
            }
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"idle: {Mib(idle)}, during a CNN run on MNIST (peak): {Mib(duringPeak)}"));
        Console.WriteLine(string.Join(", ", after.Select(pair => string.Create(CultureInfo.InvariantCulture, $"after {pair.Key} short runs: {Mib(pair.Value)}"))));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"after {runs} / after 5: {(double)after[runs] / after[5]:F3}"));
        await LargeDatasetRunAsync(rows);
    }

    /// <summary>
    /// The peak resident memory (VmHWM) of a service that trains one MLP epoch on <paramref name="trainRows"/> training and a
    /// sixth as many test images of 28 × 28 bytes (the 10k MNIST sample's rows repeated), against the dataset's size. One
    /// service process imports the dataset; a fresh one on the same data folder trains one short Iris run (which loads
    /// TorchSharp) and then the large run, so its peak is the large run's over that baseline.
    /// </summary>
    private static async Task LargeDatasetRunAsync(int trainRows)
    {
        var testRows = trainRows / 6;
        var dataFolder = NewDataFolder();
        var folder = Machine.TemporaryFolder();
        try
        {
            var npz = Path.Combine(folder, "mnist-repeated.npz");
            MnistSample.WriteRepeated(npz, trainRows, testRows);
            Guid datasetId, modelId, irisId, irisModelId;
            long storedBytes;
            await using (var importer = await ServiceClient.StartAsync(dataFolder))
            {
                var dataset = await importer.ImportAsync(npz, ("name", "mnist-repeated"), ("scale", "1/255"), ("reshape", "1,28,28"));
                var model = await importer.CreateModelAsync("bench-mlp", OverheadBenchmark.Models[0].Layers);
                (datasetId, modelId, storedBytes) = (dataset.Id, model.Id, dataset.StoredBytes);
                (irisId, irisModelId) = await IrisAsync(importer);
            }

            await using var service = await ServiceClient.StartAsync(dataFolder);
            await WarmUpAsync(service, irisId, irisModelId);
            var baseline = service.Service.ResidentBytes();
            var run = await service.CreateRunAsync(Spec(datasetId, modelId, epochs: 1, batchSize: 256));
            await service.WaitUntilFinishedAsync(run.Id);
            var peak = service.Service.PeakResidentBytes();

            var features = (long)(trainRows + testRows) * 784;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"dataset: {trainRows:N0} + {testRows:N0} images of 28 × 28 as uint8: features {features / 1e6:F1} MB as stored (tensor file {storedBytes / 1e6:F1} MB), "
                + $"{features * sizeof(float) / 1e6:F1} MB as float32"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"one MLP epoch (batch 256) on it in a fresh service after one Iris run: before it {Mib(baseline)}, peak (VmHWM) {Mib(peak)}; "
                + $"peak − before {Mib(peak - baseline)} = {(peak - baseline) / (double)features:F2} × the stored features, "
                + $"{(peak - baseline) / (features * (double)sizeof(float)):F2} × their float32 size"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
            Directory.Delete(dataFolder, recursive: true);
        }
    }

    /// <summary>Live events: EpochCompleted published by the worker → received by each of N connected SignalR clients.</summary>
    public static async Task EventsAsync(string[] args)
    {
        var clients = Machine.Option(args, "--clients", 100);
        var epochs = Machine.Option(args, "--epochs", 30);
        await using var service = await ServiceClient.StartAsync(NewDataFolder());
        var (irisId, irisModelId) = await IrisAsync(service);
        var mnist = await service.ImportAsync(MnistSample.Path, ("name", "mnist"), ("scale", "1/255"), ("reshape", "1,28,28"));
        var mlp = await service.CreateModelAsync("bench-mlp", OverheadBenchmark.Models[0].Layers);
        await using var clientsOfAllRuns = await EpochLatencies.ConnectAsync(service.Service.Address, clients);
        // Two paces: Iris epochs last milliseconds, so its events come back to back (a burst of epochs × clients
        // messages); MNIST epochs of an MLP last a few tenths of a second, the pace of a real run.
        foreach (var (name, spec) in new[]
        {
            ("Iris, back-to-back epochs of a few ms", Spec(irisId, irisModelId, epochs: epochs)),
            ("MNIST 10k MLP, epochs of ~0.2 s", Spec(mnist.Id, mlp.Id, epochs: epochs, batchSize: 64)),
        })
        {
            var latencies = (await clientsOfAllRuns.OfRunAsync(service, spec)).Select(delivery => delivery.Milliseconds).ToList();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{name}: {clients} clients × {epochs} epochs, {latencies.Count} deliveries; published → received p50 {Stats.Percentile(latencies, 50):F1} ms, p99 {Stats.Percentile(latencies, 99):F1} ms, max {latencies.Max():F1} ms"));
        }
    }

    public static object Spec(Guid datasetId, Guid modelId, int epochs, int batchSize = 16) => new
    {
        datasetId, modelId, optimizer = new { type = "adam", lr = 0.01 }, loss = new { type = "crossEntropy" }, epochs, batchSize, seed = 1,
    };

    public static async Task<(Guid DatasetId, Guid ModelId)> IrisAsync(ServiceClient service)
    {
        var dataset = await service.ImportAsync(Path.Combine(ServiceClient.RepositoryRoot(), "samples", "iris.csv"), ("name", "iris"));
        var model = await service.CreateModelAsync("bench-iris", IrisMlp);
        return (dataset.Id, model.Id);
    }

    public static string NewDataFolder() => Path.Combine(Path.GetTempPath(), "experiments-bench", Guid.NewGuid().ToString("N"));

    private static async Task WarmUpAsync(ServiceClient service, Guid datasetId, Guid modelId)
    {
        var run = await service.CreateRunAsync(Spec(datasetId, modelId, epochs: 1));
        await service.WaitUntilFinishedAsync(run.Id);
        await Task.Delay(500);
    }

    private static string Mib(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:F0} MiB");
}
