using System.Diagnostics;
using System.Globalization;
using Experiments.Domain.Runs;
using Experiments.Tests.Support;

namespace Experiments.Bench;

/// <summary>
/// The service split over processes on this one machine: a web node and workers (the same binary in
/// <c>Role=web</c> and <c>Role=worker</c>) on a private PostgreSQL, a private Redis as SignalR's backplane, one data folder.
/// (1) Throughput: N identical short runs queued at once, from the first create until all succeeded, with one worker and
/// with two, each on a fresh database. (2) What the backplane adds to a live event: EpochCompleted published (by the
/// trainer's process) → received by a SignalR client, for the single process (<c>Role=all</c>, SQLite, no backplane)
/// and for worker → Redis → web node → client.
/// </summary>
public static class ScaleOutBenchmark
{
    public const string Name = "scaleout";

    private const int BatchSize = 64;
    private static readonly string[] WorkerNames = ["worker-a", "worker-b"];

    public static async Task RunAsync(string[] args)
    {
        var runs = Machine.Option(args, "--runs", 12);
        var epochs = Machine.Option(args, "--epochs", 5);
        var eventEpochs = Machine.Option(args, "--event-epochs", 200);
        await using var postgres = await PostgreSqlServer.StartAsync();
        await using var redis = await RedisServer.StartAsync();

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"throughput: {runs} identical runs × {epochs} epochs of the MLP on the 10k MNIST sample (batch {BatchSize}), queued at once; each worker 1 torch thread, 1 run at a time; one web node, PostgreSQL and Redis on the same machine"));
        var one = await ThroughputAsync(postgres, redis, workers: 1, runs, epochs);
        var two = await ThroughputAsync(postgres, redis, workers: 2, runs, epochs);
        Console.WriteLine();
        Console.WriteLine("| workers | first create → all succeeded | **runs/min** | median run, claimed → finished | workers busy | runs per worker |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (var result in new[] { one, two })
        {
            Console.WriteLine(result.Row());
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"two workers / one worker: **{two.RunsPerMinute / one.RunsPerMinute:F2}** × the runs per minute"));

        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"live events: EpochCompleted published → received by one SignalR client, a run of {eventEpochs} Iris epochs (MLP 4-16-3, batch 16) after a 20-epoch warm-up, 1 torch thread"));
        var single = await SingleProcessLatencyAsync(eventEpochs);
        var split = await SplitLatencyAsync(postgres, redis, eventEpochs);
        Console.WriteLine();
        Console.WriteLine("| path | deliveries | an epoch published every (median) | p50 | **p95** | max |");
        Console.WriteLine("|---|---|---|---|---|---|");
        Console.WriteLine(LatencyRow("single process (Role=all, SQLite, no backplane)", single));
        Console.WriteLine(LatencyRow("worker → Redis → web node (PostgreSQL)", split));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"what the backplane adds: p50 {Signed(Median(split) - Median(single))} ms, p95 {Signed(P95(split) - P95(single))} ms"));
    }

    private static async Task<Throughput> ThroughputAsync(PostgreSqlServer postgres, RedisServer redis, int workers, int runs, int epochs)
    {
        await using var service = await SplitService.StartAsync(postgres, redis, workers);
        var web = service.Web;
        var mnist = await web.ImportAsync(Path.Combine(ServiceClient.RepositoryRoot(), "samples", "mnist-10k.npz"), ("name", "mnist"), ("scale", "1/255"), ("reshape", "1,28,28"));
        var mlp = await web.CreateModelAsync("bench-mlp", OverheadBenchmark.Models[0].Layers);
        // One warm-up run per worker, queued together so that each worker takes one and pays its JIT before the clock starts.
        await RunAllAsync(web, ServiceBenchmarks.Spec(mnist.Id, mlp.Id, epochs: 2, batchSize: BatchSize), workers);
        var clock = Stopwatch.StartNew();
        var finished = await RunAllAsync(web, ServiceBenchmarks.Spec(mnist.Id, mlp.Id, epochs, BatchSize), runs);
        return new Throughput(workers, clock.Elapsed.TotalSeconds, finished);
    }

    /// <summary>Creates <paramref name="count"/> runs of <paramref name="spec"/> one after another, then waits until all of them succeeded.</summary>
    private static async Task<List<RunView>> RunAllAsync(ServiceClient web, object spec, int count)
    {
        var created = new List<RunView>();
        for (var i = 0; i < count; i++)
        {
            created.Add(await web.CreateRunAsync(spec));
        }
        var finished = new List<RunView>();
        foreach (var run in created)
        {
            finished.Add(await web.WaitUntilFinishedAsync(run.Id));
        }
        return finished;
    }

    private static async Task<List<EpochLatencies.Delivery>> SingleProcessLatencyAsync(int epochs)
    {
        await using var service = await ServiceClient.StartAsync(ServiceBenchmarks.NewDataFolder(), "--Experiments:TorchThreads=1");
        return await IrisLatencyAsync(service, epochs);
    }

    private static async Task<List<EpochLatencies.Delivery>> SplitLatencyAsync(PostgreSqlServer postgres, RedisServer redis, int epochs)
    {
        await using var service = await SplitService.StartAsync(postgres, redis, workers: 1);
        return await IrisLatencyAsync(service.Web, epochs);
    }

    /// <summary>A 20-epoch warm-up run (the JIT of training and of the event path), then the measured run's deliveries.</summary>
    private static async Task<List<EpochLatencies.Delivery>> IrisLatencyAsync(ServiceClient service, int epochs)
    {
        var (datasetId, modelId) = await ServiceBenchmarks.IrisAsync(service);
        await using var client = await EpochLatencies.ConnectAsync(service.Service.Address, clients: 1);
        await client.OfRunAsync(service, ServiceBenchmarks.Spec(datasetId, modelId, epochs: 20));
        return await client.OfRunAsync(service, ServiceBenchmarks.Spec(datasetId, modelId, epochs));
    }

    private static string LatencyRow(string path, List<EpochLatencies.Delivery> deliveries)
    {
        var published = deliveries.Select(delivery => delivery.PublishedAt).Order().ToList();
        var intervals = published.Zip(published.Skip(1), (earlier, later) => (later - earlier).TotalMilliseconds);
        var milliseconds = deliveries.Select(delivery => delivery.Milliseconds).ToList();
        return string.Create(CultureInfo.InvariantCulture,
            $"| {path} | {deliveries.Count} | {Stats.Median(intervals):F1} ms | {Median(deliveries):F1} ms | **{P95(deliveries):F1} ms** | {milliseconds.Max():F1} ms |");
    }

    private static double Median(List<EpochLatencies.Delivery> deliveries) => Stats.Median(deliveries.Select(delivery => delivery.Milliseconds));

    private static double P95(List<EpochLatencies.Delivery> deliveries) => Stats.Percentile(deliveries.Select(delivery => delivery.Milliseconds), 95);

    private static string Signed(double milliseconds) => milliseconds.ToString("+0.0;-0.0;0.0", CultureInfo.InvariantCulture);

    /// <summary>The measured runs of one configuration, and the wall time from the first create until the last succeeded.</summary>
    private sealed record Throughput(int Workers, double Seconds, List<RunView> Runs)
    {
        public double RunsPerMinute => Runs.Count / Seconds * 60;

        public string Row()
        {
            var durations = Runs.Select(run => run.DurationSeconds ?? double.NaN).ToList();
            // How much of the wall time the workers spent on a claimed run; the rest is polling, claiming and handing over.
            var busy = durations.Sum() / (Workers * Seconds);
            var perWorker = Runs.GroupBy(run => WorkerNameOf(run.Environment?.Worker)).OrderBy(group => group.Key)
                .Select(group => $"{group.Key} {group.Count()}");
            return string.Create(CultureInfo.InvariantCulture,
                $"| {Workers} | {Seconds:F1} s | **{RunsPerMinute:F1}** | {Stats.Median(durations):F2} s | {busy * 100:F0} % | {string.Join(", ", perWorker)} |");
        }

        /// <summary>A worker's id is its configured name and a random suffix (WorkerIdentity).</summary>
        private static string WorkerNameOf(string? worker) => worker is null ? "?" : worker[..worker.LastIndexOf(':')];
    }

    /// <summary>
    /// One web node (with the benchmark's hub connection) and named workers on a fresh PostgreSQL database, with Redis
    /// between them and a data folder of their own, deleted when they stop.
    /// </summary>
    private sealed class SplitService : IAsyncDisposable
    {
        private readonly TemporaryFolder _dataFolder;
        private readonly List<ServiceProcess> _workers;

        private SplitService(TemporaryFolder dataFolder, ServiceClient web, List<ServiceProcess> workers)
        {
            _dataFolder = dataFolder;
            Web = web;
            _workers = workers;
        }

        public ServiceClient Web { get; }

        public static async Task<SplitService> StartAsync(PostgreSqlServer postgres, RedisServer redis, int workers)
        {
            var database = await postgres.CreateDatabaseAsync();
            var dataFolder = new TemporaryFolder();
            string[] Settings(string role) =>
            [
                $"--Experiments:Role={role}", "--Experiments:Storage=PostgreSql", $"--ConnectionStrings:Experiments={database}",
                "--Experiments:Backplane=Redis", $"--ConnectionStrings:Redis={redis.ConnectionString}",
            ];
            // The web node first, so that it applies the migrations alone; ServiceClient sets its QueuePollInterval.
            var service = new SplitService(dataFolder, await ServiceClient.StartAsync(dataFolder.Path, Settings("web")), []);
            try
            {
                foreach (var name in WorkerNames.Take(workers))
                {
                    service._workers.Add(await ServiceProcess.StartAsync(dataFolder.Path,
                    [
                        .. Settings("worker"), $"--Experiments:WorkerName={name}", "--Experiments:TorchThreads=1", "--Experiments:MaxConcurrentRuns=1",
                        "--Experiments:QueuePollInterval=00:00:00.100",
                    ]));
                }
            }
            catch
            {
                await service.DisposeAsync();
                throw;
            }
            return service;
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var worker in _workers)
            {
                await worker.DisposeAsync();
            }
            await Web.DisposeAsync();
            _dataFolder.Dispose();
        }
    }
}
