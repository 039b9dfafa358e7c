using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Experiments.Bench;

/// <summary>
/// The REST API under concurrent load from this process (the service is a child process on loopback), with
/// 10,000 runs and 1,000,000 epoch-metric rows in its database. One real 100-epoch run on Iris is trained
/// through the service; the service is stopped and that run, with its 100 epochs, is copied 9,999 times
/// straight into the SQLite file; the service is started again on it and each request is sent for a fixed
/// time by many concurrent connections. Reported: p50/p99 latency and requests per second.
/// </summary>
public static class ApiBenchmark
{
    public const string Name = "api";

    private const int Runs = 10_000;
    private const int EpochsPerRun = 100;

    public static async Task RunAsync(string[] args)
    {
        var connections = Machine.Option(args, "--connections", 16);
        var seconds = Machine.Option(args, "--seconds", 10);
        // --data keeps the seeded service's folder for a closer look (a profiler, sqlite3); by default it is removed.
        var keep = args.SkipWhile(arg => arg != "--data").Skip(1).FirstOrDefault();
        var dataFolder = keep ?? Machine.TemporaryFolder();
        try
        {
            await MeasureAllAsync(dataFolder, connections, seconds);
        }
        finally
        {
            if (keep is null)
            {
                Directory.Delete(dataFolder, recursive: true);
            }
        }
    }

    private static async Task MeasureAllAsync(string dataFolder, int connections, int seconds)
    {

        var clock = Clock.Start();
        var (datasetId, modelId, runIds) = await SeedAsync(dataFolder);
        Console.WriteLine($"seeded {runIds.Count:N0} runs and {runIds.Count * EpochsPerRun:N0} epoch-metric rows in {clock.Elapsed}; "
            + $"database {new FileInfo(Path.Combine(dataFolder, "experiments.db")).Length / (1024.0 * 1024):F0} MiB");

        await using var service = await ServiceClient.StartAsync(dataFolder);
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = connections, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
        {
            BaseAddress = service.Service.Address,
        };
        Console.WriteLine($"{connections} concurrent connections, {seconds} s per request after 30 s of warm-up over the reads and 10 s of its own; service pid {service.Service.ProcessId}");
        Console.WriteLine();
        Console.WriteLine("| request | requests | req/s | p50 | p99 | max | errors | service CPU per request | load generator CPU per request |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|");

        using var serviceProcess = Process.GetProcessById(service.Service.ProcessId);
        // Under full load on two cores the JIT's background recompilation of hot methods is starved for tens of
        // seconds; without this pass, whichever request is measured first looks up to twice as slow.
        foreach (var path in new[] { "/api/runs?pageSize=50", $"/api/runs?pageSize=50&page={Runs / 100}", $"/api/runs/{runIds[0]}/metrics" })
        {
            await LoadAsync(http, connections, TimeSpan.FromSeconds(10), (client, _) => client.GetAsync(path));
        }
        await MeasureAsync("`GET /api/runs?pageSize=50` (first page, newest first)", http, serviceProcess, connections, seconds,
            (client, _) => client.GetAsync("/api/runs?pageSize=50"));
        await MeasureAsync("`GET /api/runs?pageSize=50&page=N` (N random in 1–200)", http, serviceProcess, connections, seconds,
            (client, random) => client.GetAsync($"/api/runs?pageSize=50&page={random.Next(1, Runs / 50 + 1)}"));
        await MeasureAsync("`GET /api/runs/{id}/metrics` (random run, 100 epochs)", http, serviceProcess, connections, seconds,
            (client, random) => client.GetAsync($"/api/runs/{runIds[random.Next(runIds.Count)]}/metrics"));
        // Last, because every run it creates is queued and then trained (one at a time) while it measures.
        var spec = new
        {
            datasetId, modelId, optimizer = new { type = "adam" }, loss = new { type = "crossEntropy" }, epochs = 1, batchSize = 16, threads = 1,
        };
        await MeasureAsync("`POST /api/runs` (1-epoch Iris run; queued, then trained one at a time meanwhile)", http, serviceProcess, connections, seconds,
            (client, _) => client.PostAsJsonAsync("/api/runs", spec));
    }

    /// <summary>
    /// Trains one real run through the service, then copies it (and its epochs) in SQL until there are
    /// <see cref="Runs"/> runs, with creation times one second apart so that every sort order is a real one.
    /// </summary>
    private static async Task<(Guid DatasetId, Guid ModelId, List<Guid> RunIds)> SeedAsync(string dataFolder)
    {
        Guid datasetId, modelId, templateId;
        await using (var service = await ServiceClient.StartAsync(dataFolder))
        {
            var dataset = await service.ImportAsync(Path.Combine(ServiceClient.RepositoryRoot(), "samples", "iris.csv"), ("name", "iris"));
            var model = await service.CreateModelAsync("iris-mlp",
                """[{"type":"linear","outFeatures":16},{"type":"relu"},{"type":"linear","outFeatures":3}]""");
            var run = await service.CreateRunAsync(new
            {
                datasetId = dataset.Id, modelId = model.Id, optimizer = new { type = "adam", lr = 0.01 }, loss = new { type = "crossEntropy" },
                epochs = EpochsPerRun, batchSize = 16, seed = 1,
            });
            await service.WaitUntilFinishedAsync(run.Id);
            (datasetId, modelId, templateId) = (dataset.Id, model.Id, run.Id);
        }

        using var connection = new SqliteConnection($"Data Source={Path.Combine(dataFolder, "experiments.db")}");
        connection.Open();
        // Ids are stored as EF Core writes them; copy the template's text form.
        var template = Scalar<string>(connection, "SELECT Id FROM Runs");
        var uppercase = !template.Any(char.IsLower);
        // Times are stored as EF Core's DateTimeOffsetToBinaryConverter writes them.
        var times = new DateTimeOffsetToBinaryConverter();
        var createdAt = (DateTimeOffset)times.ConvertFromProvider(Scalar<long>(connection, "SELECT CreatedAt FROM Runs"))!;
        var runColumns = Columns(connection, "Runs").Where(column => column is not ("Id" or "CreatedAt")).ToList();
        var metricColumns = Columns(connection, "EpochMetrics").Where(column => column != "RunId").ToList();

        using var transaction = connection.BeginTransaction();
        using var copyRun = connection.CreateCommand();
        copyRun.CommandText = $"INSERT INTO Runs (Id, CreatedAt, {string.Join(", ", runColumns)}) SELECT $id, $createdAt, {string.Join(", ", runColumns)} FROM Runs WHERE Id = $template";
        using var copyMetrics = connection.CreateCommand();
        copyMetrics.CommandText = $"INSERT INTO EpochMetrics (RunId, {string.Join(", ", metricColumns)}) SELECT $id, {string.Join(", ", metricColumns)} FROM EpochMetrics WHERE RunId = $template";
        var id = copyRun.Parameters.Add("$id", SqliteType.Text);
        var created = copyRun.Parameters.Add("$createdAt", SqliteType.Integer);
        copyRun.Parameters.AddWithValue("$template", template);
        var metricId = copyMetrics.Parameters.Add("$id", SqliteType.Text);
        copyMetrics.Parameters.AddWithValue("$template", template);

        var runIds = new List<Guid> { templateId };
        for (var copy = 1; copy < Runs; copy++)
        {
            var newId = Guid.NewGuid();
            var text = uppercase ? newId.ToString().ToUpperInvariant() : newId.ToString();
            id.Value = text;
            metricId.Value = text;
            created.Value = times.ConvertToProvider(createdAt.AddSeconds(-copy));
            copyRun.ExecuteNonQuery();
            if (copyMetrics.ExecuteNonQuery() != EpochsPerRun)
            {
                throw new InvalidOperationException($"the template run has not {EpochsPerRun} epochs");
            }
            runIds.Add(newId);
        }
        transaction.Commit();
        return (datasetId, modelId, runIds);
    }

    /// <summary>
    /// Sends requests from <paramref name="connections"/> concurrent loops: 10 s of warm-up (under steady load the
    /// JIT keeps recompiling hot methods for several seconds; shorter warm-ups measured the JIT), then
    /// <paramref name="seconds"/> measured.
    /// </summary>
    private static async Task MeasureAsync(
        string name, HttpClient http, Process service, int connections, int seconds, Func<HttpClient, Random, Task<HttpResponseMessage>> send)
    {
        await LoadAsync(http, connections, TimeSpan.FromSeconds(10), send);
        service.Refresh();
        var serviceCpu = service.TotalProcessorTime;
        var ownCpu = Process.GetCurrentProcess().TotalProcessorTime;
        var (latencies, errors, elapsed) = await LoadAsync(http, connections, TimeSpan.FromSeconds(seconds), send);
        service.Refresh();
        var serviceMs = (service.TotalProcessorTime - serviceCpu).TotalMilliseconds;
        var ownMs = (Process.GetCurrentProcess().TotalProcessorTime - ownCpu).TotalMilliseconds;
        var all = latencies.SelectMany(list => list).ToList();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {all.Count:N0} | **{all.Count / elapsed:F0}** | {Stats.Median(all):F1} ms | **{Stats.Percentile(all, 99):F1} ms** | {all.Max():F1} ms | {errors} | {serviceMs / all.Count:F2} ms | {ownMs / all.Count:F2} ms |"));
    }

    private static async Task<(List<double>[] Latencies, int Errors, double Seconds)> LoadAsync(
        HttpClient http, int connections, TimeSpan duration, Func<HttpClient, Random, Task<HttpResponseMessage>> send)
    {
        var latencies = Enumerable.Range(0, connections).Select(_ => new List<double>(50_000)).ToArray();
        var errors = 0;
        var started = Stopwatch.GetTimestamp();
        var until = started + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var loops = Enumerable.Range(0, connections).Select(loop => Task.Run(async () =>
        {
            var random = new Random(loop);
            while (Stopwatch.GetTimestamp() < until)
            {
                var sent = Stopwatch.GetTimestamp();
                using var response = await send(http, random);
                await response.Content.LoadIntoBufferAsync();
                latencies[loop].Add(Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
                if (!response.IsSuccessStatusCode)
                {
                    Interlocked.Increment(ref errors);
                }
            }
        }));
        await Task.WhenAll(loops);
        return (latencies, errors, Stopwatch.GetElapsedTime(started).TotalSeconds);
    }

    private static T Scalar<T>(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (T)command.ExecuteScalar()!;
    }

    private static List<string> Columns(SqliteConnection connection, string table)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT name FROM pragma_table_info('{table}')";
        using var reader = command.ExecuteReader();
        var columns = new List<string>();
        while (reader.Read())
        {
            columns.Add(reader.GetString(0));
        }
        return columns;
    }
}
