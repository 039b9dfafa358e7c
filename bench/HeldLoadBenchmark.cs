using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using Experiments.Domain.Runs;

namespace Experiments.Bench;

/// <summary>
/// Reads held while the service is busy: one run trains on Iris, 20 more wait in the queue, and 1,000 concurrent
/// reads (the runs list, a run, its metrics, its logs, the datasets list) are sent at once, in several waves. Reported:
/// p50/p99/max latency and errors of the reads, and whether the training run lost an epoch (its epochs counted
/// against its metric rows, and its pushed events).
/// </summary>
public static class HeldLoadBenchmark
{
    public const string Name = "held";

    public static async Task RunAsync(string[] args)
    {
        var concurrent = Machine.Option(args, "--concurrent", 1000);
        var waves = Machine.Option(args, "--waves", 5);
        var folder = Machine.TemporaryFolder();
        try
        {
            await using var service = await ServiceClient.StartAsync(folder);
            var iris = await service.ImportAsync(Path.Combine(ServiceClient.RepositoryRoot(), "samples", "iris.csv"));
            var model = await service.CreateModelAsync("held-mlp", """[{"type": "linear", "outFeatures": 16}, {"type": "relu"}, {"type": "linear", "outFeatures": 3}]""");
            object Spec(int epochs) => new
            {
                datasetId = iris.Id, modelId = model.Id, optimizer = new { type = "adam", lr = 0.01 }, loss = new { type = "crossEntropy" },
                epochs, batchSize = 4, seed = 7,
            };
            var training = await service.CreateRunAsync(Spec(400));
            var queued = new List<RunView>();
            for (var i = 0; i < 20; i++)
            {
                queued.Add(await service.CreateRunAsync(Spec(1)));
            }

            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = concurrent, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
            {
                BaseAddress = service.Service.Address,
                Timeout = TimeSpan.FromMinutes(2),
            };
            string[] paths =
            [
                "/api/runs?pageSize=50", $"/api/runs/{training.Id}", $"/api/runs/{training.Id}/metrics", $"/api/runs/{training.Id}/logs", "/api/datasets",
            ];
            var latencies = new List<double>();
            var errors = 0;
            var clock = Stopwatch.StartNew();
            for (var wave = 0; wave < waves; wave++)
            {
                var results = await Task.WhenAll(Enumerable.Range(0, concurrent).Select(async i =>
                {
                    var start = Stopwatch.GetTimestamp();
                    try
                    {
                        using var response = await http.GetAsync(paths[i % paths.Length]);
                        await response.Content.ReadAsByteArrayAsync();
                        return (Ms: Stopwatch.GetElapsedTime(start).TotalMilliseconds, Ok: response.IsSuccessStatusCode);
                    }
                    catch (HttpRequestException)
                    {
                        return (Ms: Stopwatch.GetElapsedTime(start).TotalMilliseconds, Ok: false);
                    }
                }));
                latencies.AddRange(results.Select(result => result.Ms));
                errors += results.Count(result => !result.Ok);
            }
            var elapsed = clock.Elapsed.TotalSeconds;
            var during = await http.GetFromJsonAsync<RunView>($"/api/runs/{training.Id}", ServiceClient.JsonOptions);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{waves} waves of {concurrent} concurrent reads ({latencies.Count:N0} in all, {latencies.Count / elapsed:F0} req/s) while run {training.Id:N} trained "
                + $"(epoch {during!.EpochsCompleted} of 400 by the end) and {queued.Count} runs waited: p50 {Stats.Median(latencies):F1} ms, "
                + $"p99 {Stats.Percentile(latencies, 99):F1} ms, max {latencies.Max():F1} ms, errors {errors}"));

            await http.PostAsync($"/api/runs/{training.Id}/cancel", null);
            var stopped = await service.WaitUntilAsync(training.Id);
            var metrics = await http.GetFromJsonAsync<RunMetricSeries>($"/api/runs/{training.Id}/metrics", ServiceClient.JsonOptions);
            var pushed = service.Epochs.Where(e => e.Event.RunId == training.Id).Select(e => e.Event.Metric.Epoch).Distinct().Count();
            var contiguous = metrics!.Epoch.SequenceEqual(Enumerable.Range(1, stopped.EpochsCompleted));
            Console.WriteLine($"training run {stopped.Status.ToString().ToLowerInvariant()} after {stopped.EpochsCompleted} epochs: {metrics.Epoch.Length} metric rows "
                + $"(epochs 1..{stopped.EpochsCompleted} {(contiguous ? "all present" : "NOT contiguous")}), {pushed} EpochCompleted events received");
            foreach (var run in queued)
            {
                await http.PostAsync($"/api/runs/{run.Id}/cancel", null);
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
