using System.Net;
using System.Net.Http.Json;
using Experiments.Domain.Runs;
using Experiments.Tests.Support;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Experiments.Tests.Api;

/// <summary><c>watch</c> and <c>detectAnomaly</c> through the API, on real Iris training.</summary>
[Collection(OneAtATime.Name)]
public sealed class LayersApiTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task A_watched_run_serves_its_layers_as_series_over_every_watched_step()
    {
        var (datasetId, modelId) = await Workflow.ImportIrisAndMlpAsync(_client);
        var created = await Workflow.CreateRunAsync(_client, datasetId, modelId, epochs: 3, watch: new { every = 4, bins = 10 });
        var run = await Workflow.WaitUntilFinishedAsync(_client, created.Id);

        var series = await GetAsync<RunLayerSeries>($"/api/runs/{run.Id}/layers");
        var part = await GetAsync<RunLayerSeries>($"/api/runs/{run.Id}/layers?from=8&to=16&layer=layers[0]");

        Assert.Equal(RunStatus.Succeeded, run.Status);
        Assert.Equal(new WatchSpec { Every = 4, Bins = 10 }, run.Spec.Watch);
        // 120 training samples in batches of 16: 8 batches an epoch, 24 steps.
        Assert.Equal([4L, 8, 12, 16, 20, 24], series.Step);
        Assert.Equal([1, 1, 2, 2, 3, 3], series.Epoch);
        Assert.Null(series.NextFrom);
        Assert.Equal(["layers[0].weight", "layers[0].bias", "layers[2].weight", "layers[2].bias"], series.Parameters.Select(parameter => parameter.Name));
        var first = series.Parameters[0];
        Assert.All(first.Weights.Counts, row => Assert.Equal(16 * 4, row.Sum()));
        Assert.All(first.Weights.Counts, row => Assert.Equal(10, row.Length));
        Assert.All(first.UpdateRatio, ratio => Assert.True(ratio is > 0 and < 1, $"update ratio {ratio}"));
        Assert.Equal(["linear", "relu", "linear"], series.Activations.Select(activation => activation.Type));
        Assert.All(series.Activations[1].DeadFraction, dead => Assert.True(dead is >= 0 and <= 1));
        Assert.Equal([8L, 12, 16], part.Step);
        Assert.Equal(["layers[0].weight", "layers[0].bias"], part.Parameters.Select(parameter => parameter.Name));
        Assert.Equal(["layers[0]"], part.Activations.Select(activation => activation.Layer));
    }

    [Fact]
    public async Task A_run_without_watch_answers_empty_series_and_an_unknown_run_404()
    {
        var (datasetId, modelId) = await Workflow.ImportIrisAndMlpAsync(_client);
        var run = await Workflow.WaitUntilFinishedAsync(_client, (await Workflow.CreateRunAsync(_client, datasetId, modelId, epochs: 1)).Id);

        var series = await GetAsync<RunLayerSeries>($"/api/runs/{run.Id}/layers");
        var unknown = await _client.GetAsync($"/api/runs/{Guid.NewGuid()}/layers");

        Assert.Null(run.Spec.Watch);
        Assert.Equal((0, 0, 0), (series.Step.Length, series.Parameters.Count, series.Activations.Count));
        await ProblemAssertions.ExpectProblemAsync(unknown, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Bad_layer_filters_and_step_bounds_are_refused_naming_the_parameter()
    {
        var (datasetId, modelId) = await Workflow.ImportIrisAndMlpAsync(_client);
        var run = await Workflow.WaitUntilFinishedAsync(_client, (await Workflow.CreateRunAsync(_client, datasetId, modelId, epochs: 1, watch: new { every = 2 })).Id);

        var unknownLayer = await ProblemAssertions.ExpectProblemAsync(await _client.GetAsync($"/api/runs/{run.Id}/layers?layer=layers[9]"));
        var backwards = await ProblemAssertions.ExpectProblemAsync(await _client.GetAsync($"/api/runs/{run.Id}/layers?from=9&to=2"));
        var zero = await ProblemAssertions.ExpectProblemAsync(await _client.GetAsync($"/api/runs/{run.Id}/layers?from=0"));

        Assert.Contains("layers[0].weight", Assert.Single(unknownLayer.Errors["layer"]), StringComparison.Ordinal);
        Assert.Contains("to", backwards.Errors.Keys);
        Assert.Contains("from", zero.Errors.Keys);
    }

    [Fact]
    public async Task Bad_watch_values_are_refused_naming_the_field_and_the_smallest_every_that_fits()
    {
        var (datasetId, modelId) = await Workflow.ImportIrisAndMlpAsync(_client);

        var zero = await ProblemAssertions.ExpectProblemAsync(await PostRunAsync(datasetId, modelId, epochs: 1, new { every = 0, bins = 1000 }));
        var tooMany = await ProblemAssertions.ExpectProblemAsync(await PostRunAsync(datasetId, modelId, epochs: 100_000, new { every = 1 }, batchSize: 1));
        var unknownField = await ProblemAssertions.ExpectProblemAsync(await PostRunAsync(datasetId, modelId, epochs: 1, new { evry = 5 }));

        Assert.Contains("watch.every", zero.Errors.Keys);
        Assert.Contains("watch.bins", zero.Errors.Keys);
        // 120 samples in batches of 1 for 100,000 epochs: 12,000,000 steps. A snapshot of the MLP's 4 tensors and 3 layers at 32 bins
        // holds 4 × (3 + 2 × 34) + 3 × 4 = 296 numbers, so 6,756 fit the limit of 2,000,000: every 12,000,000 / 6,757 + 1 = 1,776 steps.
        Assert.Contains("use an every of at least 1776", Assert.Single(tooMany.Errors["watch.every"]), StringComparison.Ordinal);
        Assert.NotEmpty(unknownField.Errors);
    }

    [Fact]
    public async Task Anomaly_detection_fails_a_diverging_run_naming_the_layer_and_without_it_the_batch()
    {
        var (datasetId, modelId) = await Workflow.ImportIrisAndMlpAsync(_client);

        var detected = await Workflow.WaitUntilFinishedAsync(_client,
            (await Workflow.CreateRunAsync(_client, datasetId, modelId, epochs: 5, lr: 1e30, optimizer: "sgd", detectAnomaly: true)).Id);
        var plain = await Workflow.WaitUntilFinishedAsync(_client,
            (await Workflow.CreateRunAsync(_client, datasetId, modelId, epochs: 5, lr: 1e30, optimizer: "sgd")).Id);

        Assert.Equal(RunStatus.Failed, detected.Status);
        Assert.Matches(@"^(activation of layers\[\d\] \((linear|relu)\)|gradient of layers\[\d\]\.(weight|bias)) became (NaN|infinite) at epoch 1, batch \d+ \(lr 1E\+30\)$", detected.Error);
        Assert.Matches(@"^(loss|gradient norm) became (NaN|infinite) at epoch 1, batch \d+ \(lr 1E\+30\)$", plain.Error);
    }

    [Fact]
    public async Task The_hub_pushes_each_snapshot_to_the_runs_group()
    {
        var (datasetId, modelId) = await Workflow.ImportIrisAndMlpAsync(_client);
        var first = new TaskCompletionSource<LayersWatched>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(factory.Server.BaseAddress, "hubs/runs"), options =>
            {
                options.Transports = HttpTransportType.LongPolling;
                options.HttpMessageHandlerFactory = _ => factory.Server.CreateHandler();
            })
            .AddJsonProtocol(json => Experiments.Domain.JsonConventions.Apply(json.PayloadSerializerOptions))
            .Build();
        connection.On<LayersWatched>(nameof(IRunsClient.LayersWatched), watched => first.TrySetResult(watched));
        await connection.StartAsync();

        // Long enough (a snapshot at the end of each of 2,000 epochs) to still be pushing once the group is joined; cancelled once heard.
        var created = await Workflow.CreateRunAsync(_client, datasetId, modelId, epochs: 2000, watch: new { every = 8 });
        await connection.InvokeAsync("JoinRun", created.Id);
        var pushed = await first.Task.WaitAsync(TimeSpan.FromMinutes(1));
        await _client.PostAsync($"/api/runs/{created.Id}/cancel", null);
        await Workflow.WaitUntilFinishedAsync(_client, created.Id);
        var stored = await GetAsync<RunLayerSeries>($"/api/runs/{created.Id}/layers?from={pushed.Snapshot.Step}&to={pushed.Snapshot.Step}");

        Assert.Equal(created.Id, pushed.RunId);
        Assert.Equal([pushed.Snapshot.Step], stored.Step);
        Assert.Equal(stored.Parameters[0].WeightNorm[0], pushed.Snapshot.Parameters[0].WeightNorm);
        Assert.Equal(stored.Parameters[0].Weights.Counts[0], pushed.Snapshot.Parameters[0].Weights.Counts);
    }

    private Task<HttpResponseMessage> PostRunAsync(Guid datasetId, Guid modelId, int epochs, object watch, int batchSize = 16) =>
        _client.PostAsJsonAsync("/api/runs", new { datasetId, modelId, optimizer = new { type = "adam" }, loss = new { type = "crossEntropy" }, epochs, batchSize, watch });

    private async Task<T> GetAsync<T>(string path)
    {
        var response = await _client.GetAsync(path);
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return await response.ReadAsAsync<T>();
    }
}
