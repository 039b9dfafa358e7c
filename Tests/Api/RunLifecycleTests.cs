using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Experiments.Api.Runs;
using Experiments.Domain;
using Experiments.Domain.Runs;
using Experiments.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Experiments.Tests.Api;

[Collection(OneAtATime.Name)]
public sealed class RunLifecycleTests(ApiFactory factory) : RunLifecycleSuite<ApiFactory>(factory), IClassFixture<ApiFactory>;

/// <summary>The same suite on PostgreSQL.</summary>
[Collection(PostgreSqlCollection.Name)]
public sealed class RunLifecycleOnPostgreSqlTests(PostgreSqlApiFactory factory) : RunLifecycleSuite<PostgreSqlApiFactory>(factory), IClassFixture<PostgreSqlApiFactory>;

/// <summary>Cancel, failure, and the guard against a second delivery, on the real host.</summary>
public abstract class RunLifecycleSuite<TFactory>(TFactory factory) where TFactory : ApiFactory
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task Cancel_stops_a_running_run_within_one_batch_and_keeps_its_metrics()
    {
        var (datasetId, modelId) = await SlowInputsAsync();
        var created = await Workflow.CreateRunAsync(_client, datasetId, modelId, epochs: 500, batchSize: 2);
        await Workflow.WaitUntilAsync(_client, created.Id, run => run.EpochsCompleted >= 1);

        var stopwatch = Stopwatch.StartNew();
        var response = await _client.PostAsync($"/api/runs/{created.Id}/cancel", null);
        var run = await Workflow.WaitUntilFinishedAsync(_client, created.Id);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(RunStatus.Cancelled, run.Status);
        Assert.Equal(StopReason.Cancelled, run.StopReason);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(20), $"took {stopwatch.Elapsed}");
        Assert.True(run.EpochsCompleted is >= 1 and < 500);
        Assert.Equal(run.EpochsCompleted, run.Metrics.Count);
        // The last checkpoint's weights stay available.
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync($"/api/runs/{run.Id}/weights")).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await _client.PostAsync($"/api/runs/{run.Id}/cancel", null)).StatusCode);
    }

    [Fact]
    public async Task Cancel_removes_a_queued_run_before_it_starts()
    {
        var (datasetId, modelId) = await SlowInputsAsync();
        var busy = await Workflow.CreateRunAsync(_client, datasetId, modelId, epochs: 500, batchSize: 2);
        await Workflow.WaitUntilAsync(_client, busy.Id, run => run.Status == RunStatus.Running);
        var queued = await Workflow.CreateRunAsync(_client, datasetId, modelId, epochs: 5);
        Assert.Equal(1, (await GetAsync(queued.Id)).QueuePosition);

        var response = await _client.PostAsync($"/api/runs/{queued.Id}/cancel", null);
        await _client.PostAsync($"/api/runs/{busy.Id}/cancel", null);
        await Workflow.WaitUntilFinishedAsync(_client, busy.Id);
        await Task.Delay(500);
        var run = await GetAsync(queued.Id);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(RunStatus.Cancelled, run.Status);
        Assert.Null(run.StartedAt);
        Assert.Empty(run.Metrics);
    }

    [Fact]
    public async Task A_loss_that_becomes_nan_fails_the_run_once_with_the_reason()
    {
        var dataset = await Workflow.ImportIrisAsync(_client);
        var model = await Workflow.CreateMlpAsync(_client);
        var created = await Workflow.CreateRunAsync(_client, dataset.Id, model.Id, epochs: 20, lr: 1e30, optimizer: "sgd");

        var run = await Workflow.WaitUntilFinishedAsync(_client, created.Id);
        var logs = await (await _client.GetAsync($"/api/runs/{run.Id}/logs")).ReadAsAsync<Page<RunLogLine>>();

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Matches(@"^(loss|gradient norm) became (NaN|infinite) at epoch 1, batch \d+ \(lr 1E\+30\)$", run.Error);
        Assert.Single(logs.Items, line => line.Level == "error");
    }

    [Fact]
    public async Task A_second_delivery_of_a_running_run_does_not_train_it_again()
    {
        var (datasetId, modelId) = await SlowInputsAsync();
        // Long enough (a few seconds) to still be running when the second delivery arrives, however fast the machine.
        var created = await Workflow.CreateRunAsync(_client, datasetId, modelId, epochs: 30, batchSize: 4);
        await Workflow.WaitUntilAsync(_client, created.Id, run => run.Status == RunStatus.Running);

        // What Hangfire does when a job outlives its invisibility timeout: deliver it to another worker.
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var second = scope.ServiceProvider.GetRequiredService<TrainRunJob>();
            var delivery = second.ExecuteAsync(created.Id, CancellationToken.None);
            Assert.True(await Task.WhenAny(delivery, Task.Delay(TimeSpan.FromSeconds(10))) == delivery, "the second delivery should return at once");
        }
        var run = await Workflow.WaitUntilFinishedAsync(_client, created.Id);

        Assert.Equal(RunStatus.Succeeded, run.Status);
        Assert.Equal(Enumerable.Range(1, 30), run.Metrics.Select(metric => metric.Epoch));
        Assert.Equal(0, run.Resumes);
    }

    [Fact]
    public async Task Metrics_come_as_series_with_logged_batch_losses()
    {
        var dataset = await Workflow.ImportIrisAsync(_client);
        var model = await Workflow.CreateMlpAsync(_client);
        var created = await Workflow.CreateRunAsync(_client, dataset.Id, model.Id, epochs: 3, logEveryBatches: 2);
        await Workflow.WaitUntilFinishedAsync(_client, created.Id);

        var series = await (await _client.GetAsync($"/api/runs/{created.Id}/metrics")).ReadAsAsync<RunMetricSeries>();

        Assert.Equal([1, 2, 3], series.Epoch);
        Assert.Equal(3, series.TestAccuracy.Length);
        Assert.All(series.GradientNorm, norm => Assert.True(norm > 0));
        Assert.All(series.SamplesPerSecond, speed => Assert.True(speed > 0));
        // 120 training samples in batches of 16: 8 batches an epoch, every second one logged.
        Assert.Equal(12, series.Batches.Loss.Length);
        Assert.Equal([2, 4, 6, 8], series.Batches.Batch.Take(4));
        Assert.Equal(series.Batches.Step.Order(), series.Batches.Step);
    }

    [Fact]
    public async Task Run_options_are_validated_before_anything_is_queued()
    {
        var response = await _client.PostAsJsonAsync("/api/runs", new
        {
            datasetId = Guid.NewGuid(), modelId = Guid.NewGuid(), optimizer = new { type = "sgd" }, loss = new { type = "crossEntropy" }, epochs = 1,
            gradientClipNorm = -1, evaluateEvery = 0, logEveryBatches = 0, threads = 0,
        });
        var problem = await response.ReadAsAsync<Microsoft.AspNetCore.Mvc.ValidationProblemDetails>();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("gradientClipNorm", problem.Errors.Keys);
        Assert.Contains("evaluateEvery", problem.Errors.Keys);
        Assert.Contains("logEveryBatches", problem.Errors.Keys);
        Assert.Contains("threads", problem.Errors.Keys);
    }

    private async Task<RunView> GetAsync(Guid id) => await (await _client.GetAsync($"/api/runs/{id}")).ReadAsAsync<RunView>();

    /// <summary>A few thousand samples: an epoch in small batches takes long enough to act on a running run.</summary>
    private async Task<(Guid DatasetId, Guid ModelId)> SlowInputsAsync()
    {
        var dataset = await Workflow.ImportCsvAsync(_client, SyntheticData.BlobsCsv(rows: 2400, features: 12, seed: 1), "blobs");
        var model = await Workflow.CreateMlpAsync(_client, name: "blobs-mlp");
        return (dataset.Id, model.Id);
    }
}
