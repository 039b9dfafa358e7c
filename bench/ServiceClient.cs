using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Experiments.Api;
using Experiments.Domain.Datasets;
using Experiments.Domain.Models;
using Experiments.Domain.Runs;
using Experiments.Domain.Sweeps;
using Experiments.Tests.Support;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Experiments.Bench;

/// <summary>The calls a user makes, against a service child process, plus a hub connection that timestamps what arrives.</summary>
public sealed class ServiceClient : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Json = CreateJson();

    /// <summary>The service's JSON conventions, for a benchmark's own requests.</summary>
    public static JsonSerializerOptions JsonOptions => Json;
    private readonly HttpClient _http;

    private ServiceClient(ServiceProcess service, HubConnection hub)
    {
        Service = service;
        _http = service.CreateClient();
        Hub = hub;
    }

    public ServiceProcess Service { get; }

    public HubConnection Hub { get; }

    /// <summary>Every EpochCompleted received, with the stopwatch time it arrived.</summary>
    public ConcurrentQueue<(EpochCompleted Event, long ArrivedAt)> Epochs { get; } = new();

    /// <summary>Every RunStatusChanged received, with the stopwatch time it arrived.</summary>
    public ConcurrentQueue<(RunStatusChanged Event, long ArrivedAt)> Statuses { get; } = new();

    /// <summary>Every BatchProgress received, with the stopwatch time it arrived.</summary>
    public ConcurrentQueue<(BatchProgress Event, long ArrivedAt)> Batches { get; } = new();

    public static string RepositoryRoot()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "Experiments.sln")))
        {
            folder = folder.Parent;
        }
        return folder?.FullName ?? throw new DirectoryNotFoundException("Experiments.sln not found above the benchmark.");
    }

    public static async Task<ServiceClient> StartAsync(string dataFolder, params string[] settings)
    {
        var service = await ServiceProcess.StartAsync(dataFolder, ["--Experiments:QueuePollInterval=00:00:00.100", .. settings]);
        var hub = Connect(service.Address);
        var client = new ServiceClient(service, hub);
        hub.On<EpochCompleted>("EpochCompleted", e => client.Epochs.Enqueue((e, Stopwatch.GetTimestamp())));
        hub.On<BatchProgress>("BatchProgress", e => client.Batches.Enqueue((e, Stopwatch.GetTimestamp())));
        hub.On<RunStatusChanged>("RunStatusChanged", e => client.Statuses.Enqueue((e, Stopwatch.GetTimestamp())));
        await hub.StartAsync();
        await hub.InvokeAsync("JoinAll");
        return client;
    }

    public static HubConnection Connect(Uri address) => new HubConnectionBuilder()
        .WithUrl(new Uri(address, "hubs/runs"))
        .AddJsonProtocol(options => HttpExtensions.Configure(options.PayloadSerializerOptions))
        .Build();

    public async Task<DatasetView> ImportAsync(string path, params (string Name, string Value)[] fields)
    {
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(await File.ReadAllBytesAsync(path));
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "file", Path.GetFileName(path));
        foreach (var (name, value) in fields)
        {
            form.Add(new StringContent(value), name);
        }
        return await ReadAsync<DatasetView>(await _http.PostAsync("/api/datasets", form));
    }

    public async Task<ModelView> CreateModelAsync(string name, string layersJson) =>
        await ReadAsync<ModelView>(await _http.PostAsync("/api/models",
            new StringContent($$"""{"name": "{{name}}", "layers": {{layersJson}}}""", System.Text.Encoding.UTF8, "application/json")));

    public async Task<RunView> CreateRunAsync(object spec) => await ReadAsync<RunView>(await _http.PostAsJsonAsync("/api/runs", spec, Json));

    public async Task<SweepView> CreateSweepAsync(object spec) => await ReadAsync<SweepView>(await _http.PostAsJsonAsync("/api/sweeps", spec, Json));

    /// <summary>The sweep once it finished, however it finished.</summary>
    public async Task<SweepView> WaitForSweepAsync(Guid sweepId)
    {
        while (true)
        {
            var sweep = await ReadAsync<SweepView>(await _http.GetAsync($"/api/sweeps/{sweepId}"));
            if (sweep.Status != SweepStatus.Running)
            {
                return sweep;
            }
            await Task.Delay(200);
        }
    }

    public async Task<RunView> WaitUntilFinishedAsync(Guid runId)
    {
        var run = await WaitUntilAsync(runId);
        return run.Status == RunStatus.Succeeded ? run : throw new InvalidOperationException($"run {runId} {run.Status}: {run.Error}");
    }

    /// <summary>The run once it finished, however it finished.</summary>
    public async Task<RunView> WaitUntilAsync(Guid runId)
    {
        while (true)
        {
            var run = await ReadAsync<RunView>(await _http.GetAsync($"/api/runs/{runId}"));
            if (run.Status.IsFinished())
            {
                return run;
            }
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Hub.DisposeAsync();
        _http.Dispose();
        await Service.DisposeAsync();
    }

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{(int)response.StatusCode}: {body}");
        }
        return JsonSerializer.Deserialize<T>(body, Json)!;
    }

    private static JsonSerializerOptions CreateJson()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        HttpExtensions.Configure(options);
        return options;
    }
}

public static class Stats
{
    public static double Percentile(IEnumerable<double> values, double percentile)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
        {
            return double.NaN;
        }
        var rank = percentile / 100 * (sorted.Length - 1);
        var low = (int)Math.Floor(rank);
        var high = (int)Math.Ceiling(rank);
        return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
    }

    public static double Median(IEnumerable<double> values) => Percentile(values, 50);

    public static double Seconds(long from, long to) => Stopwatch.GetElapsedTime(from, to).TotalSeconds;
}
