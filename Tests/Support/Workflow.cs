using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Experiments.Domain.Datasets;
using Experiments.Domain.Models;
using Experiments.Domain.Runs;
using Experiments.Domain.Sweeps;

namespace Experiments.Tests.Support;

/// <summary>The calls a user makes, in the walkthrough's order.</summary>
public static class Workflow
{
    public static string IrisPath => Path.Combine(AppContext.BaseDirectory, "samples", "iris.csv");

    public static MultipartFormDataContent CsvForm(byte[] content, string fileName = "data.csv", params (string Name, string Value)[] fields)
    {
        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(content);
        file.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        form.Add(file, "file", fileName);
        foreach (var (name, value) in fields)
        {
            form.Add(new StringContent(value), name);
        }
        return form;
    }

    public static async Task<DatasetView> ImportIrisAsync(HttpClient client)
    {
        var response = await client.PostAsync("/api/datasets", CsvForm(await File.ReadAllBytesAsync(IrisPath), "iris.csv", ("name", "iris")));
        Assert.True(response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.ReadAsAsync<DatasetView>();
    }

    public static async Task<ModelView> CreateMlpAsync(HttpClient client, int classes = 3, string name = "iris-mlp")
    {
        var response = await client.PostAsJsonAsync("/api/models", new
        {
            name,
            layers = new object[]
            {
                new { type = "linear", outFeatures = 16 },
                new { type = "relu" },
                new { type = "linear", outFeatures = classes },
            },
        });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return await response.ReadAsAsync<ModelView>();
    }

    /// <summary>Iris and an MLP for it: the inputs of a valid run.</summary>
    public static async Task<(Guid DatasetId, Guid ModelId)> ImportIrisAndMlpAsync(HttpClient client)
    {
        var dataset = await ImportIrisAsync(client);
        var model = await CreateMlpAsync(client);
        return (dataset.Id, model.Id);
    }

    public static async Task<DatasetView> ImportCsvAsync(HttpClient client, byte[] csv, string name)
    {
        var response = await client.PostAsync("/api/datasets", CsvForm(csv, $"{name}.csv", ("name", name)));
        Assert.True(response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.ReadAsAsync<DatasetView>();
    }

    public static async Task<RunView> CreateRunAsync(
        HttpClient client, Guid datasetId, Guid modelId, int epochs = 30, double lr = 0.01, long seed = 7, double? targetAccuracy = null,
        int batchSize = 16, string optimizer = "adam", int? logEveryBatches = null, object? watch = null, bool? detectAnomaly = null)
    {
        var response = await client.PostAsJsonAsync("/api/runs", new
        {
            datasetId,
            modelId,
            optimizer = new { type = optimizer, lr },
            loss = new { type = "crossEntropy" },
            epochs,
            batchSize,
            shuffle = true,
            seed,
            targetAccuracy,
            logEveryBatches,
            watch,
            detectAnomaly,
        });
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        return await response.ReadAsAsync<RunView>();
    }

    public static Task<RunView> WaitUntilFinishedAsync(HttpClient client, Guid runId, TimeSpan? timeout = null) =>
        WaitUntilAsync(client, runId, run => run.Status.IsFinished(), timeout);

    public static async Task<RunView> WaitUntilAsync(HttpClient client, Guid runId, Func<RunView, bool> condition, TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(2));
        while (true)
        {
            var run = await (await client.GetAsync($"/api/runs/{runId}", deadline.Token)).ReadAsAsync<RunView>();
            if (condition(run))
            {
                return run;
            }
            if (run.Status.IsFinished())
            {
                throw new InvalidOperationException($"run {runId} finished as {run.Status} ({run.StopReason}, {run.Error}) after {run.EpochsCompleted} epochs before the awaited state");
            }
            await Task.Delay(100, deadline.Token);
        }
    }

    /// <summary>The sweep once it finished, however it finished.</summary>
    public static Task<SweepView> WaitUntilSweepFinishedAsync(HttpClient client, Guid sweepId, TimeSpan? timeout = null) =>
        WaitUntilSweepAsync(client, sweepId, sweep => sweep.Status != SweepStatus.Running, timeout);

    /// <summary>The sweep once <paramref name="condition"/> holds; fails with its trials when it does not in time.</summary>
    public static async Task<SweepView> WaitUntilSweepAsync(HttpClient client, Guid sweepId, Func<SweepView, bool> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(2));
        while (true)
        {
            var sweep = await (await client.GetAsync($"/api/sweeps/{sweepId}")).ReadAsAsync<SweepView>();
            if (condition(sweep))
            {
                return sweep;
            }
            Assert.True(DateTime.UtcNow < deadline, $"sweep {sweepId} is {sweep.Status}, not yet as awaited: {System.Text.Json.JsonSerializer.Serialize(sweep.Trials)}");
            await Task.Delay(100);
        }
    }
}
