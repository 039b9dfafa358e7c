using System.Collections.Concurrent;
using System.Net.Http.Json;
using Experiments.Domain;
using Experiments.Domain.Runs;
using Experiments.Domain.Workers;
using Experiments.Tests.Support;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Experiments.Tests.ScaleOut;

/// <summary>
/// The service split over processes as docs/deploy.md describes: web nodes and workers from the same binary on one
/// PostgreSQL database, one Redis backplane and one shared data folder, each a real child process that a test kills
/// with SIGKILL.
/// </summary>
[Collection(PostgreSqlCollection.Name)]
public sealed class MultiProcessTests(PostgreSqlFixture cluster) : IDisposable
{
    private const int Epochs = 10;
    private readonly TemporaryFolder _dataFolder = new();

    [Fact]
    public async Task Workers_share_the_queue_resume_a_killed_workers_run_and_every_web_node_streams_every_epoch()
    {
        var database = await cluster.Server.CreateDatabaseAsync();
        await using var redis = await RedisServer.StartAsync();
        string[] Settings(string role, string? name = null) =>
        [
            $"--Experiments:Role={role}", "--Experiments:Storage=PostgreSql", $"--ConnectionStrings:Experiments={database}",
            "--Experiments:Backplane=Redis", $"--ConnectionStrings:Redis={redis.ConnectionString}",
            "--Experiments:RunLeaseDuration=00:00:03", "--Experiments:QueuePollInterval=00:00:00.100", "--Experiments:TorchThreads=1",
            "--Experiments:WorkerHeartbeatInterval=00:00:01", .. name is null ? Array.Empty<string>() : [$"--Experiments:WorkerName={name}"],
        ];
        // All four start at once on an empty database: their migrations take turns.
        var starting = new[]
        {
            ServiceProcess.StartAsync(_dataFolder.Path, Settings("web")),
            ServiceProcess.StartAsync(_dataFolder.Path, Settings("web")),
            ServiceProcess.StartAsync(_dataFolder.Path, Settings("worker", "worker-a")),
            ServiceProcess.StartAsync(_dataFolder.Path, Settings("worker", "worker-b")),
        };
        var nodes = await Task.WhenAll(starting);
        await using var web = nodes[0];
        await using var secondWeb = nodes[1];
        await using var workerA = nodes[2];
        await using var workerB = nodes[3];
        using var client = web.CreateClient();
        // A worker serves its health and nothing else.
        using (var workerClient = workerA.CreateClient())
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, (await workerClient.GetAsync("/health")).StatusCode);
            Assert.Equal(System.Net.HttpStatusCode.NotFound, (await workerClient.GetAsync("/api/runs")).StatusCode);
        }
        await using var firstStream = await EpochStream.ConnectAsync(web.Address);
        await using var secondStream = await EpochStream.ConnectAsync(secondWeb.Address);
        var workers = await WaitForWorkersAsync(client, 2);
        Assert.All(workers, worker => Assert.Equal(["training"], worker.Queues));

        var dataset = await Workflow.ImportCsvAsync(client, SyntheticData.BlobsCsv(rows: 1600, features: 12, seed: 9), "blobs");
        var model = await Workflow.CreateMlpAsync(client, name: "blobs-mlp");
        var runs = new List<Guid>();
        for (var index = 0; index < 6; index++)
        {
            runs.Add((await Workflow.CreateRunAsync(client, dataset.Id, model.Id, epochs: Epochs, batchSize: 4, seed: 5 + index)).Id);
        }
        // Kill worker A in the middle of a run: after a stored epoch, before the last.
        var victim = await WaitForRunMidwayOnAsync(client, runs, "worker-a");
        await workerA.KillAsync();

        var finished = new List<RunView>();
        foreach (var id in runs)
        {
            finished.Add(await Workflow.WaitUntilFinishedAsync(client, id, TimeSpan.FromMinutes(4)));
        }

        Assert.All(finished, run =>
        {
            Assert.Equal(RunStatus.Succeeded, run.Status);
            Assert.Equal(Enumerable.Range(1, Epochs), run.Metrics.Select(metric => metric.Epoch));
        });
        var trainers = finished.SelectMany(run => run.TrainedBy).Select(range => WorkerNameOf(range.Worker)).ToHashSet();
        Assert.Equal(["worker-a", "worker-b"], trainers.Order());
        var resumed = finished.Single(run => run.Id == victim);
        Assert.True(resumed.Resumes >= 1);
        Assert.Equal("worker-b", WorkerNameOf(resumed.TrainedBy[^1].Worker));
        Assert.Equal(1, resumed.TrainedBy[0].FirstEpoch);
        Assert.Equal(Epochs, resumed.TrainedBy[^1].LastEpoch);

        // Both web nodes' clients saw every epoch of every run; a run's epochs arrive in order, except that a resumed run
        // starts again after its checkpoint; and the last value received for an epoch is the stored one.
        foreach (var stream in new[] { firstStream, secondStream })
        {
            await stream.WaitForAsync(runs, Epochs, TimeSpan.FromSeconds(30));
            foreach (var run in finished)
            {
                var received = stream.EpochsOf(run.Id);
                Assert.Equal(Enumerable.Range(1, Epochs), received.Select(epoch => epoch.Epoch).Distinct().Order());
                if (run.Id != victim)
                {
                    Assert.Equal(Enumerable.Range(1, Epochs), received.Select(epoch => epoch.Epoch));
                }
                foreach (var stored in run.Metrics)
                {
                    Assert.Equal(stored.TrainLoss, received.Last(epoch => epoch.Epoch == stored.Epoch).TrainLoss);
                }
            }
        }

        // The killed worker is lost; the other one is active and idle.
        var after = await WaitForAsync(async () =>
        {
            var listed = await (await client.GetAsync("/api/workers")).ReadAsAsync<List<WorkerView>>();
            return listed.Any(worker => WorkerNameOf(worker.Name) == "worker-a" && worker.Status == WorkerStatus.Lost) ? listed : null;
        }, TimeSpan.FromSeconds(30));
        Assert.Contains(after, worker => WorkerNameOf(worker.Name) == "worker-b" && worker.Status == WorkerStatus.Active && worker.CurrentRuns.Count == 0);
    }

    [Fact]
    public async Task A_sweep_with_two_workers_trains_its_trials_side_by_side_up_to_its_concurrency()
    {
        var database = await cluster.Server.CreateDatabaseAsync();
        string[] Settings(string role, string? name = null) =>
        [
            $"--Experiments:Role={role}", "--Experiments:Storage=PostgreSql", $"--ConnectionStrings:Experiments={database}",
            "--Experiments:QueuePollInterval=00:00:00.100", "--Experiments:TorchThreads=1", "--Experiments:WorkerHeartbeatInterval=00:00:01",
            .. name is null ? Array.Empty<string>() : [$"--Experiments:WorkerName={name}"],
        ];
        var nodes = await Task.WhenAll(
            ServiceProcess.StartAsync(_dataFolder.Path, Settings("web")),
            ServiceProcess.StartAsync(_dataFolder.Path, Settings("worker", "worker-a")),
            ServiceProcess.StartAsync(_dataFolder.Path, Settings("worker", "worker-b")));
        await using var web = nodes[0];
        await using var workerA = nodes[1];
        await using var workerB = nodes[2];
        using var client = web.CreateClient();
        await WaitForWorkersAsync(client, 2);
        var (datasetId, modelId) = await Workflow.ImportIrisAndMlpAsync(client);
        var created = await client.PostAsJsonAsync("/api/sweeps", new
        {
            @base = new { datasetId, modelId, epochs = 30, batchSize = 4, optimizer = new { type = "sgd" }, loss = new { type = "crossEntropy" } },
            parameters = new Dictionary<string, object> { ["optimizer.lr"] = new { type = "choice", values = new[] { 0.003, 0.01, 0.03, 0.1 } } },
            method = "grid",
            budget = new { concurrency = 2 },
        });
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        var id = (await created.ReadAsAsync<Experiments.Domain.Sweeps.SweepView>()).Id;
        var sweep = await Workflow.WaitUntilSweepFinishedAsync(client, id, TimeSpan.FromMinutes(3));
        var runs = new List<RunView>();
        foreach (var trial in sweep.Trials)
        {
            runs.Add(await (await client.GetAsync($"/api/runs/{trial.RunId}")).ReadAsAsync<RunView>());
        }

        Assert.Equal(Experiments.Domain.Sweeps.SweepStatus.Succeeded, sweep.Status);
        Assert.Equal([1, 2, 3, 4], sweep.Trials.Select(trial => trial.Number));
        Assert.All(runs, run => Assert.Equal((RunStatus.Succeeded, 30), (run.Status, run.EpochsCompleted)));
        Assert.Equal(["worker-a", "worker-b"], runs.Select(run => WorkerNameOf(run.Environment?.Worker)).Distinct().Order());
        // Two at a time: some trials overlapped, and never more than two did.
        int Overlapping(RunView run) => runs.Count(other => other.StartedAt < run.FinishedAt && run.StartedAt < other.FinishedAt);
        Assert.Contains(runs, run => Overlapping(run) >= 2);
        Assert.All(runs, run => Assert.True(runs.Count(other => other.StartedAt <= run.StartedAt && run.StartedAt < other.FinishedAt) <= 2));
    }

    [Fact]
    public async Task A_cuda_run_goes_to_the_gpu_queue_and_only_a_worker_serving_it_takes_it()
    {
        var database = await cluster.Server.CreateDatabaseAsync();
        string[] common = ["--Experiments:Storage=PostgreSql", $"--ConnectionStrings:Experiments={database}", "--Experiments:QueuePollInterval=00:00:00.100",
            "--Experiments:WorkerHeartbeatInterval=00:00:01"];
        await using var web = await ServiceProcess.StartAsync(_dataFolder.Path, [.. common, "--Experiments:Role=web"]);
        using var client = web.CreateClient();
        var dataset = await Workflow.ImportCsvAsync(client, SyntheticData.BlobsCsv(rows: 200, features: 4, seed: 3), "blobs");
        var model = await Workflow.CreateMlpAsync(client, name: "blobs-mlp");
        object Spec(string device) => new
        {
            datasetId = dataset.Id, modelId = model.Id, optimizer = new { type = "adam", lr = 0.01 }, loss = new { type = "crossEntropy" }, epochs = 1, device,
        };

        // No worker serves gpu yet: refused, saying what to start.
        var refused = await client.PostAsJsonAsync("/api/runs", Spec("cuda"));
        var problem = await ProblemAssertions.ExpectProblemAsync(refused);
        Assert.Contains("no active worker serves the 'gpu' queue", Assert.Single(problem.Errors["device"]), StringComparison.Ordinal);

        // A worker that serves gpu only (configured so: this machine has no GPU, so it fails the run saying why).
        await using var gpuWorker = await ServiceProcess.StartAsync(_dataFolder.Path, [.. common, "--Experiments:Role=worker", "--Experiments:Queues:0=gpu"]);
        await WaitForWorkersAsync(client, 1);
        var cpuRun = await Workflow.CreateRunAsync(client, dataset.Id, model.Id, epochs: 1);
        var cudaResponse = await client.PostAsJsonAsync("/api/runs", Spec("cuda"));
        Assert.Equal(System.Net.HttpStatusCode.Accepted, cudaResponse.StatusCode);
        var cudaRun = await Workflow.WaitUntilFinishedAsync(client, (await cudaResponse.ReadAsAsync<RunView>()).Id, TimeSpan.FromMinutes(2));

        Assert.Equal(RunStatus.Failed, cudaRun.Status);
        Assert.Contains("no CUDA GPU is available", cudaRun.Error, StringComparison.Ordinal);
        // The cpu run waits on the training queue, which this worker does not serve.
        var waiting = await (await client.GetAsync($"/api/runs/{cpuRun.Id}")).ReadAsAsync<RunView>();
        Assert.Equal(RunStatus.Queued, waiting.Status);
    }

    [Fact]
    public async Task A_lost_Redis_pauses_live_events_and_never_fails_a_run()
    {
        var database = await cluster.Server.CreateDatabaseAsync();
        await using var redis = await RedisServer.StartAsync();
        string[] settings =
        [
            "--Experiments:Storage=PostgreSql", $"--ConnectionStrings:Experiments={database}",
            "--Experiments:Backplane=Redis", $"--ConnectionStrings:Redis={redis.ConnectionString}", "--Experiments:QueuePollInterval=00:00:00.100",
        ];
        await using var service = await ServiceProcess.StartAsync(_dataFolder.Path, settings);
        using var client = service.CreateClient();
        var dataset = await Workflow.ImportCsvAsync(client, SyntheticData.BlobsCsv(rows: 1600, features: 12, seed: 9), "blobs");
        var model = await Workflow.CreateMlpAsync(client, name: "blobs-mlp");
        var run = await Workflow.CreateRunAsync(client, dataset.Id, model.Id, epochs: 8, batchSize: 4);
        await Workflow.WaitUntilAsync(client, run.Id, current => current.EpochsCompleted >= 1, TimeSpan.FromMinutes(2));

        await redis.StopAsync();
        var degraded = await WaitForAsync(async () =>
        {
            var health = await (await client.GetAsync("/health")).Content.ReadAsStringAsync();
            return health.Contains("\"backplane\":{\"status\":\"Degraded\"", StringComparison.Ordinal) ? health : null;
        }, TimeSpan.FromSeconds(30));
        var finished = await Workflow.WaitUntilFinishedAsync(client, run.Id, TimeSpan.FromMinutes(3));
        var created = await client.PostAsJsonAsync("/api/runs", new
        {
            datasetId = dataset.Id, modelId = model.Id, optimizer = new { type = "adam", lr = 0.01 }, loss = new { type = "crossEntropy" }, epochs = 1,
        });

        Assert.Equal(RunStatus.Succeeded, finished.Status);
        Assert.Equal(Enumerable.Range(1, 8), finished.Metrics.Select(metric => metric.Epoch));
        Assert.Contains("\"status\":\"Degraded\"", degraded, StringComparison.Ordinal);
        // Creating a run while Redis is gone works too (its queued event is dropped, not waited for).
        Assert.Equal(System.Net.HttpStatusCode.Accepted, created.StatusCode);
        await Workflow.WaitUntilFinishedAsync(client, (await created.ReadAsAsync<RunView>()).Id, TimeSpan.FromMinutes(2));

        // Back again, live events flow without a restart.
        await redis.StartAgainAsync();
        await using var stream = await EpochStream.ConnectAsync(service.Address);
        var again = await Workflow.CreateRunAsync(client, dataset.Id, model.Id, epochs: 2, batchSize: 16);
        await stream.WaitForAsync([again.Id], 2, TimeSpan.FromSeconds(60));
    }

    /// <summary>A worker's name is its configured name and a random suffix (WorkerIdentity).</summary>
    private static string? WorkerNameOf(string? worker) => worker?[..worker.LastIndexOf(':')];

    private static async Task<List<WorkerView>> WaitForWorkersAsync(HttpClient client, int count) =>
        await WaitForAsync(async () =>
        {
            var workers = await (await client.GetAsync("/api/workers")).ReadAsAsync<List<WorkerView>>();
            return workers.Count(worker => worker.Status == WorkerStatus.Active) >= count ? workers : null;
        }, TimeSpan.FromSeconds(30));

    private static async Task<Guid> WaitForRunMidwayOnAsync(HttpClient client, List<Guid> runs, string worker) =>
        await WaitForAsync(async () =>
        {
            foreach (var id in runs)
            {
                var run = await (await client.GetAsync($"/api/runs/{id}")).ReadAsAsync<RunView>();
                if (run.Status == RunStatus.Running && run.EpochsCompleted is >= 2 and < Epochs - 2 && WorkerNameOf(run.Environment?.Worker) == worker)
                {
                    return (Guid?)id;
                }
            }
            return null;
        }, TimeSpan.FromMinutes(3)) ?? throw new TimeoutException();

    private static async Task<T> WaitForAsync<T>(Func<Task<T?>> probe, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        while (true)
        {
            if (await probe() is { } found)
            {
                return found;
            }
            await Task.Delay(200, deadline.Token);
        }
    }

    public void Dispose() => _dataFolder.Dispose();

    /// <summary>A hub client of one web node that joined every run, keeping each run's epochs in the order they arrived.</summary>
    private sealed class EpochStream : IAsyncDisposable
    {
        private readonly HubConnection _connection;
        private readonly ConcurrentDictionary<Guid, List<EpochMetric>> _epochs = new();

        private EpochStream(HubConnection connection) => _connection = connection;

        public static async Task<EpochStream> ConnectAsync(Uri service)
        {
            var connection = new HubConnectionBuilder()
                .WithUrl(new Uri(service, "hubs/runs"))
                .AddJsonProtocol(json => JsonConventions.Apply(json.PayloadSerializerOptions))
                .Build();
            var stream = new EpochStream(connection);
            connection.On<EpochCompleted>("EpochCompleted", epoch =>
            {
                var list = stream._epochs.GetOrAdd(epoch.RunId, _ => []);
                lock (list)
                {
                    list.Add(epoch.Metric);
                }
            });
            await connection.StartAsync();
            await connection.InvokeAsync("JoinAll");
            return stream;
        }

        public List<EpochMetric> EpochsOf(Guid runId)
        {
            var list = _epochs.GetOrAdd(runId, _ => []);
            lock (list)
            {
                return [.. list];
            }
        }

        public async Task WaitForAsync(IEnumerable<Guid> runs, int epochs, TimeSpan timeout)
        {
            using var deadline = new CancellationTokenSource(timeout);
            while (!runs.All(run => EpochsOf(run).Select(epoch => epoch.Epoch).Distinct().Count() >= epochs))
            {
                await Task.Delay(100, deadline.Token);
            }
        }

        public ValueTask DisposeAsync() => _connection.DisposeAsync();
    }
}
