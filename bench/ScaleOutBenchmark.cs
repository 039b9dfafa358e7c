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
    private static readonly TimeSpan FinishLimit = TimeSpan.FromMinutes(15);
    private static readonly TimeSpan SettleTime = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan IdleTime = TimeSpan.FromSeconds(5);
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
        Console.WriteLine("| workers | first create → all succeeded | **runs/min** | median run, claimed → finished | workers busy | workers' CPU / run | web node's CPU / run | PostgreSQL's CPU / run | runs per worker | torch threads of the runs | cores used by the deployment | cores busy, whole machine | load average after |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var result in new[] { one, two })
        {
            Console.WriteLine(result.Row());
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"two workers / one worker: **{two.RunsPerMinute / one.RunsPerMinute:F2}** × the runs per minute"));
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"idle, nothing queued, over {IdleTime.TotalSeconds} s from {SettleTime.TotalSeconds} s after the warm-up (share of one core):"));
        Console.WriteLine();
        Console.WriteLine("| workers | the workers | the web node | PostgreSQL |");
        Console.WriteLine("|---|---|---|---|");
        foreach (var result in new[] { one, two })
        {
            Console.WriteLine(result.IdleRow());
        }

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
        try
        {
            return await MeasureThroughputAsync(service, workers, runs, epochs);
        }
        catch (InvalidOperationException)
        {
            // A run failed: what its worker logged says why.
            Console.Error.WriteLine(service.WorkersOutput());
            throw;
        }
    }

    private static async Task<Throughput> MeasureThroughputAsync(SplitService service, int workers, int runs, int epochs)
    {
        var web = service.Web;
        var mnist = await web.ImportAsync(MnistSample.Path, ("name", "mnist"), ("scale", "1/255"), ("reshape", "1,28,28"));
        var mlp = await web.CreateModelAsync("bench-mlp", OverheadBenchmark.Models[0].Layers);
        // One warm-up run per worker, queued together so that each worker takes one and pays its JIT before the clock starts.
        await RunAllAsync(web, ServiceBenchmarks.Spec(mnist.Id, mlp.Id, epochs: 2, batchSize: BatchSize), workers);
        // The JIT's background recompilation of what the warm-up made hot takes a third of a core for seconds after it.
        await Task.Delay(SettleTime);
        // With nothing queued: the workers' Hangfire servers poll the queue every 100 ms, everyone beats its heartbeat.
        var idleFrom = service.CpuSoFar();
        await Task.Delay(IdleTime);
        var idle = service.CpuSoFar().Since(idleFrom);
        var before = service.CpuSoFar();
        var machineBefore = Machine.BusyCpuSeconds();
        var clock = Stopwatch.StartNew();
        var finished = await RunAllAsync(web, ServiceBenchmarks.Spec(mnist.Id, mlp.Id, epochs, BatchSize), runs);
        var seconds = clock.Elapsed.TotalSeconds;
        return new Throughput(workers, seconds, finished, service.CpuSoFar().Since(before), idle, Machine.BusyCpuSeconds() - machineBefore, Machine.LoadAverage());
    }

    private static TimeSpan CpuOf(int processId)
    {
        using var process = Process.GetProcessById(processId);
        return process.TotalProcessorTime;
    }

    /// <summary>
    /// The CPU time of a process and of its children alive now: for PostgreSQL the postmaster, its background processes
    /// and a backend per pooled connection (a child that exited meanwhile is missed).
    /// </summary>
    private static TimeSpan CpuWithChildrenOf(int processId)
    {
        var total = CpuOf(processId);
        foreach (var folder in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(folder), CultureInfo.InvariantCulture, out var child))
            {
                continue;
            }
            try
            {
                // "pid (command) state ppid …": the command may hold spaces and parentheses, so read after the last ')'.
                var stat = File.ReadAllText(Path.Combine(folder, "stat"));
                var parent = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
                if (parent == processId)
                {
                    total += CpuOf(child);
                }
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
            {
                // The process exited while being read.
            }
        }
        return total;
    }

    /// <summary>
    /// Creates <paramref name="count"/> runs of <paramref name="spec"/> one after another, waits for the hub's news that
    /// each has finished, then reads each run once (and throws unless it succeeded). Waiting on the hub rather than
    /// polling every run leaves the web node and PostgreSQL their CPU for the workers: on two cores, GETs every 50 ms
    /// are not free.
    /// </summary>
    private static async Task<List<RunView>> RunAllAsync(ServiceClient web, object spec, int count)
    {
        var created = new List<Guid>();
        for (var i = 0; i < count; i++)
        {
            created.Add((await web.CreateRunAsync(spec)).Id);
        }
        var waited = Stopwatch.StartNew();
        while (web.Statuses.Where(status => status.Event.Status.IsFinished()).Select(status => status.Event.RunId).Intersect(created).Count() < count)
        {
            if (waited.Elapsed > FinishLimit)
            {
                throw new TimeoutException($"{count} runs did not all report their end on the hub within {FinishLimit.TotalMinutes} minutes.");
            }
            await Task.Delay(20);
        }
        var finished = new List<RunView>();
        foreach (var id in created)
        {
            finished.Add(await web.WaitUntilFinishedAsync(id));
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

    /// <summary>CPU seconds of the worker processes together, the web node and PostgreSQL (all its processes).</summary>
    private sealed record Cpu(double Workers, double Web, double PostgreSql)
    {
        public Cpu Since(Cpu earlier) => new(Workers - earlier.Workers, Web - earlier.Web, PostgreSql - earlier.PostgreSql);
    }

    /// <summary>
    /// The measured runs of one configuration; the wall time from the first create until the hub said the last had
    /// finished, the CPU spent meanwhile by the deployment and by the whole machine, the CPU spent over
    /// <see cref="IdleTime"/> with nothing queued, and the load average at the end.
    /// </summary>
    private sealed record Throughput(int Workers, double Seconds, List<RunView> Runs, Cpu Cpu, Cpu Idle, double MachineCpuSeconds, double Load)
    {
        public double RunsPerMinute => Runs.Count / Seconds * 60;

        public string Row()
        {
            var durations = Runs.Select(run => run.DurationSeconds ?? double.NaN).ToList();
            // How much of the wall time the workers spent on a claimed run; the rest is polling, claiming and handing over.
            var busy = durations.Sum() / (Workers * Seconds);
            var perWorker = Runs.GroupBy(run => WorkerNameOf(run.Environment?.Worker)).OrderBy(group => group.Key)
                .Select(group => $"{group.Key} {group.Count()}");
            var threads = string.Join(", ", Runs.Select(run => run.Environment?.Threads).Distinct());
            var deployment = Cpu.Workers + Cpu.Web + Cpu.PostgreSql;
            return string.Create(CultureInfo.InvariantCulture,
                $"| {Workers} | {Seconds:F1} s | **{RunsPerMinute:F1}** | {Stats.Median(durations):F2} s | {busy * 100:F0} % | {Cpu.Workers / Runs.Count:F2} s | {Cpu.Web / Runs.Count:F2} s | {Cpu.PostgreSql / Runs.Count:F2} s | {string.Join(", ", perWorker)} | {threads} | {deployment / Seconds:F2} | {MachineCpuSeconds / Seconds:F2} | {Load:F1} |");
        }

        public string IdleRow()
        {
            var seconds = IdleTime.TotalSeconds;
            return string.Create(CultureInfo.InvariantCulture,
                $"| {Workers} | {Idle.Workers / seconds * 100:F1} % | {Idle.Web / seconds * 100:F1} % | {Idle.PostgreSql / seconds * 100:F1} % |");
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
        private readonly PostgreSqlServer _postgres;
        private readonly TemporaryFolder _dataFolder;
        private readonly List<ServiceProcess> _workers;

        private SplitService(PostgreSqlServer postgres, TemporaryFolder dataFolder, ServiceClient web, List<ServiceProcess> workers)
        {
            _postgres = postgres;
            _dataFolder = dataFolder;
            Web = web;
            _workers = workers;
        }

        public ServiceClient Web { get; }

        /// <summary>What each worker wrote to its standard output and error so far.</summary>
        public string WorkersOutput() => string.Join("\n", _workers.Select((worker, index) => $"--- {WorkerNames[index]} ---\n{worker.Output}"));

        /// <summary>The CPU time each part has spent so far, all threads.</summary>
        public Cpu CpuSoFar() => new(
            _workers.Sum(worker => CpuOf(worker.ProcessId).TotalSeconds),
            CpuOf(Web.Service.ProcessId).TotalSeconds,
            CpuWithChildrenOf(_postgres.ProcessId).TotalSeconds);

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
            var service = new SplitService(postgres, dataFolder, await ServiceClient.StartAsync(dataFolder.Path, Settings("web")), []);
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
