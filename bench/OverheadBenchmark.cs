using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Experiments.Api;
using Experiments.Domain.Datasets;
using Experiments.Domain.Runs;
using Experiments.Domain.Models;
using Experiments.Domain.Validation;
using Experiments.Training;
using Experiments.Training.Data;
using Experiments.Training.Layers;
using Experiments.Training.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Experiments.Bench;

/// <summary>
/// Orchestration overhead and the hardware ceiling. For an MLP and a small CNN on the 10k MNIST sample, the
/// same model, data, batch size, seed and thread count are trained (a) by a bare TorchSharp loop in this
/// process and (b) through Experiments end to end: HTTP create → Hangfire → training → metrics persisted →
/// SignalR published, timed by the arrival of each EpochCompleted event here. Between the two, (t) runs
/// Experiments' own <see cref="Trainer"/> in this process with an observer that does nothing and no
/// checkpoint: (t)/(a) is the cost of the training loop's own work (metrics, gradient norm, loader), (b)/(t)
/// the cost of the service around it. Rounds interleave (a), (t) and (b); ratios compare median epoch times.
/// <c>--no-service</c> measures (a) and (t) only (for quick iterations on the loop; the service still imports the data). Also the machine's float32 matmul GFLOP/s and each model's achieved
/// training GFLOP/s from the validator's FLOP count.
/// </summary>
public static class OverheadBenchmark
{
    public const string Name = "overhead";

    private const int BatchSize = 64;
    private const int Seed = 1;

    public static readonly (string Name, string Layers)[] Models =
    [
        ("mlp", """[{"type":"flatten"},{"type":"linear","outFeatures":128},{"type":"relu"},{"type":"linear","outFeatures":10}]"""),
        ("cnn", """[{"type":"conv2d","outChannels":8,"kernelSize":3,"padding":1},{"type":"relu"},{"type":"maxPool2d","kernelSize":2},{"type":"conv2d","outChannels":16,"kernelSize":3,"padding":1},{"type":"relu"},{"type":"maxPool2d","kernelSize":2},{"type":"flatten"},{"type":"linear","outFeatures":10}]"""),
    ];

    public static async Task RunAsync(string[] args)
    {
        var device = args.SkipWhile(a => a != "--device").Skip(1).FirstOrDefault() ?? "cpu";
        var rounds = Machine.Option(args, "--rounds", 3);
        var epochsPerRound = Machine.Option(args, "--epochs", 4);
        var samples = Machine.Option(args, "--samples", 10_000);
        // The service chooses a run's threads from the cores (TrainingThread.DefaultThreads); the bare loop and the in-process
        // Trainer get the same number, and the service's runs are checked to have used it.
        var askedThreads = args.Contains("--threads") ? Machine.Option(args, "--threads", 1) : (int?)null;
        var threads = askedThreads ?? TrainingThread.DefaultThreads(Environment.ProcessorCount, concurrentRuns: 1);
        var torchDevice = device == "cuda" ? CUDA : CPU;
        Console.WriteLine($"device {device}, {threads} torch threads{(askedThreads is null ? " (the service's default on this machine)" : "")}, batch size {BatchSize}, {rounds} rounds of {epochsPerRound} epochs");

        var matmul = MatmulGflops(torchDevice);
        Console.WriteLine($"float32 matmul 2048×2048×2048: {matmul:F1} GFLOP/s");

        var withService = !args.Contains("--no-service");
        var dataFolder = Path.Combine(Path.GetTempPath(), "experiments-bench", Guid.NewGuid().ToString("N"));
        await using var service = await ServiceClient.StartAsync(dataFolder);
        var (dataset, data) = await ImportMnistAsync(service, dataFolder, samples);
        Console.WriteLine($"data: {data.Train.Count:N0} training and {data.Test.Count:N0} test digits{(samples > 10_000 ? " (the 10k sample repeated)" : "")}");
        // The bare loop holds both splits as float32 tensors prepared up front, as a plain TorchSharp program would.
        using var trainSplit = Prepared(data, data.Train, torchDevice);
        using var testSplit = Prepared(data, data.Test, torchDevice);

        Console.WriteLine();
        Console.WriteLine("| model | (a) bare loop, median epoch | (t) Trainer in process | (b) through Experiments | (t)/(a) | **(b)/(a)** | training GFLOP/s (bare) | of matmul ceiling |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        foreach (var (name, layersJson) in Models)
        {
            var model = await service.CreateModelAsync($"bench-{name}", layersJson);
            var errors = new ValidationErrors();
            var layers = ModelValidator.Resolve(model.Layers, errors)!;
            var summary = ModelValidator.InferShapes(layers, data.SampleShape, errors)!;
            var bare = new List<double>();
            var trainer = new List<double>();
            var orchestrated = new List<double>();
            var trainerLoop = new List<double>();
            var serviceLoop = new List<double>();
            var serviceThreads = new HashSet<int>();
            await BareEpochsAsync(layers, summary, trainSplit, testSplit, torchDevice, threads, epochs: 1); // warm-up
            await TrainerEpochsAsync(layers, summary, data, device, threads, epochs: 2);
            if (withService)
            {
                // The service's first run of a model pays for its JIT (seconds per epoch at first): warm it like the other two.
                await ServiceEpochsAsync(service, dataset.Id, model.Id, device, askedThreads, epochs: 3);
            }
            for (var round = 0; round < rounds; round++)
            {
                // As many epochs of each arm: the bare loop's are timed whole, the others' epoch to epoch.
                bare.AddRange(await BareEpochsAsync(layers, summary, trainSplit, testSplit, torchDevice, threads, epochs: epochsPerRound - 1));
                var (intervals, loops, _) = await TrainerEpochsAsync(layers, summary, data, device, threads, epochs: epochsPerRound);
                trainer.AddRange(intervals);
                trainerLoop.AddRange(loops);
                if (withService)
                {
                    var (serviceIntervals, serviceLoops, runThreads) = await ServiceEpochsAsync(service, dataset.Id, model.Id, device, askedThreads, epochs: epochsPerRound);
                    orchestrated.AddRange(serviceIntervals);
                    serviceLoop.AddRange(serviceLoops);
                    serviceThreads.Add(runThreads);
                }
            }
            var a = Stats.Median(bare);
            var t = Stats.Median(trainer);
            var b = Stats.Median(orchestrated);
            var estimate = summary.Estimate(BatchSize);
            var flopsPerEpoch = (double)estimate.TrainingFlops / BatchSize * trainSplit.Count + (double)summary.ForwardFlops * testSplit.Count;
            var achieved = flopsPerEpoch / a / 1e9;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} ({summary.TotalParameters:N0} parameters) | {a:F3} s | {t:F3} s | {b:F3} s | {t / a:F3} | **{b / a:F3}** | {achieved:F2} | {achieved / matmul:P1} |"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"|   p10–p90 of the epochs | {Spread(bare)} | {Spread(trainer)} | {Spread(orchestrated)} | | | | |"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"|   of which the training loop (median) | | {Stats.Median(trainerLoop):F3} s | {Stats.Median(serviceLoop):F3} s | | | | |"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"|   all epochs | {Join(bare)} | {Join(trainer)} | {Join(orchestrated)} | | | | |"));
            if (withService)
            {
                Console.WriteLine($"|   torch threads of the service's runs (their environment) | | | {string.Join(", ", serviceThreads)} | | | | |");
            }
        }
    }

    /// <summary>
    /// The 10k MNIST sample, or with <paramref name="samples"/> above 10,000 that many training digits (and a sixth as many test
    /// digits) repeated from it, imported through the service (bytes scaled to 0..1, as [1,28,28] images) and read back as the trainer reads it.
    /// </summary>
    internal static async Task<(DatasetView Dataset, LoadedDataset Data)> ImportMnistAsync(ServiceClient service, string dataFolder, int samples = 10_000)
    {
        var path = MnistSample.Path;
        if (samples > 10_000)
        {
            path = Path.Combine(dataFolder, $"mnist-{samples}.npz");
            MnistSample.WriteRepeated(path, samples, samples / 6);
        }
        var dataset = await service.ImportAsync(path, ("name", "mnist"), ("scale", "1/255"), ("reshape", "1,28,28"));
        var tensorFile = Directory.GetFiles(Path.Combine(dataFolder, "datasets"), "*.bin").Single();
        var (storedShape, train, test) = DatasetFile.Read(tensorFile);
        var data = new LoadedDataset(storedShape, train, test)
        {
            Preprocessing = new Preprocessing(dataset.Preprocessing.Scale, false, dataset.Preprocessing.Reshape, null, null),
            ClassCount = 10,
        };
        return (dataset, data);
    }

    /// <summary>A split's features as the model sees them, float32 on <paramref name="device"/>, with its labels.</summary>
    private static PreparedSplit Prepared(LoadedDataset data, DatasetArrays split, Device device)
    {
        using var scope = NewDisposeScope();
        using var stored = TensorSplit.From(split, data.StoredShape, data.Preprocessing, device);
        var (features, labels) = stored.Slice(0, stored.Count);
        return new PreparedSplit(features.clone().DetachFromDisposeScope(), labels.clone().DetachFromDisposeScope());
    }

    private sealed record PreparedSplit(Tensor Features, Tensor Labels) : IDisposable
    {
        public long Count => Labels.shape[0];

        public void Dispose()
        {
            Features.Dispose();
            Labels.Dispose();
        }
    }

    /// <summary>The classic loop: shuffled batches, zero_grad, forward, loss, backward, step; then the test split under no_grad.</summary>
    /// <remarks>
    /// On a thread of its own with <paramref name="threads"/> set on it, as the service trains: libtorch's thread count is per
    /// calling thread, and a pool thread reached after an await would run with libtorch's default instead.
    /// </remarks>
    private static Task<List<double>> BareEpochsAsync(
        IReadOnlyList<LayerSpec> layers, ModelSummary summary, PreparedSplit train, PreparedSplit test, Device device, int threads, int epochs) =>
        TrainingThread.Run(threads, () => BareEpochs(layers, summary, train, test, device, epochs));

    private static List<double> BareEpochs(IReadOnlyList<LayerSpec> layers, ModelSummary summary, PreparedSplit train, PreparedSplit test, Device device, int epochs)
    {
        manual_seed(Seed);
        using var model = ModelBuilder.Build(layers, summary);
        model.to(device);
        using var optimizer = optim.Adam(model.parameters(), 0.001);
        using var generator = new Generator(Seed);
        var times = new List<double>();
        for (var epoch = 0; epoch < epochs; epoch++)
        {
            var started = Stopwatch.GetTimestamp();
            model.train();
            using (var order = randperm(train.Count, generator: generator).to(device))
            {
                double lossSum = 0;
                for (long start = 0; start < train.Count; start += BatchSize)
                {
                    using var scope = NewDisposeScope();
                    var indices = order.narrow(0, start, Math.Min(BatchSize, train.Count - start));
                    optimizer.zero_grad();
                    var output = model.forward(train.Features.index_select(0, indices));
                    var loss = nn.functional.cross_entropy(output, train.Labels.index_select(0, indices));
                    loss.backward();
                    optimizer.step();
                    lossSum += loss.item<float>();
                }
            }
            model.eval();
            using (no_grad())
            {
                long correct = 0;
                for (long start = 0; start < test.Count; start += BatchSize)
                {
                    using var scope = NewDisposeScope();
                    var size = Math.Min(BatchSize, test.Count - start);
                    var output = model.forward(test.Features.narrow(0, start, size));
                    correct += output.argmax(1).eq(test.Labels.narrow(0, start, size)).sum().item<long>();
                }
            }
            times.Add(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
        return times;
    }

    private static string Spread(List<double> seconds) => seconds.Count == 0 ? ""
        : string.Create(CultureInfo.InvariantCulture, $"{Stats.Percentile(seconds, 10):F3}–{Stats.Percentile(seconds, 90):F3} s");

    private static string Join(IEnumerable<double> seconds) => string.Join(" ", seconds.Select(x => x.ToString("F3", CultureInfo.InvariantCulture)));

    /// <summary>Seconds between consecutive epochs of <see cref="Trainer"/> run in this process, as the service would run it, minus the service.</summary>
    internal static async Task<(List<double> Intervals, List<double> TrainingLoops, List<double> CpuSeconds)> TrainerEpochsAsync(
        IReadOnlyList<LayerSpec> layers, ModelSummary summary, LoadedDataset data, string device, int? threads, int epochs, WatchSpec? watch = null)
    {
        var json = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        HttpExtensions.Configure(json);
        var spec = JsonSerializer.Deserialize<RunSpec>("""{"optimizer": {"type": "adam", "lr": 0.001}, "loss": {"type": "crossEntropy"}}""", json)!;
        var errors = new ValidationErrors();
        var resolved = RunSpecValidator.Resolve(spec with { DatasetId = Guid.NewGuid(), ModelId = Guid.NewGuid(), Epochs = epochs, BatchSize = BatchSize }, Seed, errors)
            ?? throw new InvalidOperationException(errors.ToString());
        var plan = new TrainingPlan(layers, summary, resolved.Optimizer!, resolved.Loss!, epochs, BatchSize, Shuffle: true, Seed, null,
            device == "cuda" ? TrainingDevice.Cuda : TrainingDevice.Cpu) { Watch = watch, TorchThreads = threads };
        var observer = new TimingObserver();
        await Trainer.TrainAsync(plan, data, observer, CancellationToken.None);
        return (observer.Arrivals.Zip(observer.Arrivals.Skip(1), Stats.Seconds).ToList(), observer.TrainingLoops.Skip(1).ToList(),
            observer.CpuTimes.Zip(observer.CpuTimes.Skip(1), (from, to) => (to - from).TotalSeconds).ToList());
    }

    /// <summary>Hears the trainer and keeps only when each epoch finished.</summary>
    private sealed class TimingObserver : IRunObserver
    {
        public List<long> Arrivals { get; } = [];

        public List<double> TrainingLoops { get; } = [];

        /// <summary>This process's CPU time when each epoch finished: what an epoch cost, whatever else shares the cores.</summary>
        public List<TimeSpan> CpuTimes { get; } = [];

        public Task EpochCompletedAsync(EpochMetric result, IReadOnlyList<RunLogMessage> lines, CancellationToken cancellationToken)
        {
            Arrivals.Add(Stopwatch.GetTimestamp());
            CpuTimes.Add(Process.GetCurrentProcess().TotalProcessorTime);
            TrainingLoops.Add(result.Seconds);
            return Task.CompletedTask;
        }

        public void BatchCompleted(int epoch, int batch, int batchesPerEpoch, long step, float? loss, bool logged)
        {
        }

        public Task LogAsync(RunLogLevel level, string message, CancellationToken cancellationToken) => Task.CompletedTask;

        /// <summary>Kept, as the service's observer buffers them for the epoch's save.</summary>
        public List<LayerSnapshot> Snapshots { get; } = [];

        public void LayersWatched(LayerSnapshot snapshot) => Snapshots.Add(snapshot);
    }

    /// <summary>
    /// Seconds between consecutive EpochCompleted events of one run created over HTTP, its epochs' training-loop seconds, and the
    /// torch threads its environment states; <paramref name="threads"/> null leaves the number to the service.
    /// </summary>
    private static async Task<(List<double> Intervals, List<double> TrainingLoops, int Threads)> ServiceEpochsAsync(
        ServiceClient service, Guid datasetId, Guid modelId, string device, int? threads, int epochs)
    {
        var run = await service.CreateRunAsync(new
        {
            datasetId, modelId, optimizer = new { type = "adam", lr = 0.001 }, loss = new { type = "crossEntropy" },
            epochs, batchSize = BatchSize, shuffle = true, seed = Seed, device, threads,
        });
        var finished = await service.WaitUntilFinishedAsync(run.Id);
        var epochsOfRun = service.Epochs.Where(e => e.Event.RunId == run.Id).OrderBy(e => e.Event.Metric.Epoch).ToList();
        var arrivals = epochsOfRun.Select(e => e.ArrivedAt).ToList();
        return (arrivals.Zip(arrivals.Skip(1), Stats.Seconds).ToList(), epochsOfRun.Skip(1).Select(e => e.Event.Metric.Seconds).ToList(),
            finished.Environment?.Threads ?? 0);
    }

    private static double MatmulGflops(Device device)
    {
        const int N = 2048;
        using var a = randn([N, N], device: device);
        using var b = randn([N, N], device: device);
        for (var i = 0; i < 3; i++)
        {
            using var warm = matmul(a, b);
            _ = warm.sum().item<float>();
        }
        const int Repeats = 10;
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < Repeats; i++)
        {
            using var product = matmul(a, b);
            _ = product[0, 0].item<float>();
        }
        return 2.0 * N * N * N * Repeats / Stopwatch.GetElapsedTime(started).TotalSeconds / 1e9;
    }
}
