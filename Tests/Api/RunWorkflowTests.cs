using Experiments.Domain.Runs;
using Experiments.Tests.Support;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.Extensions.DependencyInjection;

namespace Experiments.Tests.Api;

[Collection(OneAtATime.Name)]
public sealed class RunWorkflowTests(ApiFactory factory) : RunWorkflowSuite<ApiFactory>(factory), IClassFixture<ApiFactory>;

/// <summary>The same suite on PostgreSQL.</summary>
[Collection(PostgreSqlCollection.Name)]
public sealed class RunWorkflowOnPostgreSqlTests(PostgreSqlApiFactory factory) : RunWorkflowSuite<PostgreSqlApiFactory>(factory), IClassFixture<PostgreSqlApiFactory>;

public abstract class RunWorkflowSuite<TFactory>(TFactory factory) where TFactory : ApiFactory
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task Iris_imported_over_http_trains_to_success_with_falling_loss_and_accuracy_well_above_chance()
    {
        var dataset = await Workflow.ImportIrisAsync(_client);
        var model = await Workflow.CreateMlpAsync(_client);
        var created = await Workflow.CreateRunAsync(_client, dataset.Id, model.Id, epochs: 40);
        Assert.Equal(RunStatus.Queued, created.Status);

        var run = await Workflow.WaitUntilFinishedAsync(_client, created.Id);

        Assert.Equal(RunStatus.Succeeded, run.Status);
        Assert.Equal(StopReason.EpochsCompleted, run.StopReason);
        Assert.Equal(40, run.EpochsCompleted);
        Assert.Equal(Enumerable.Range(1, 40), run.Metrics.Select(metric => metric.Epoch));
        Assert.True(run.Metrics[^1].TrainLoss < run.Metrics[0].TrainLoss / 2, $"train loss {run.Metrics[0].TrainLoss} → {run.Metrics[^1].TrainLoss}");
        // Three balanced classes: chance is 1/3.
        Assert.True(run.Metrics[^1].TestAccuracy >= 0.8, $"final test accuracy {run.Metrics[^1].TestAccuracy}");
        Assert.Equal("cpu", run.Environment!.Device);
        Assert.Equal("0.107.0", run.Environment.TorchSharpVersion);
        Assert.Equal(Environment.MachineName, run.Environment.MachineName);
        // Neither the run nor the worker names the threads: the cores this process may use, less one for the host.
        Assert.Equal(Experiments.Training.Runtime.TrainingThread.DefaultThreads(Environment.ProcessorCount, concurrentRuns: 1), run.Environment.Threads);
        Assert.Equal(3, run.Evaluation!.ConfusionMatrix.Length);
        Assert.Equal(30, run.Evaluation.ConfusionMatrix.Sum(row => row.Sum()));
        Assert.NotNull(run.Spec.Seed);

        var logs = await (await _client.GetAsync($"/api/runs/{run.Id}/logs")).ReadAsAsync<Experiments.Domain.Page<RunLogLine>>();
        Assert.Contains(logs.Items, line => line.Message.StartsWith("epoch 40/40", StringComparison.Ordinal));
        Assert.Contains(logs.Items, line => line.Message.StartsWith("succeeded", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Target_accuracy_stops_the_run_as_soon_as_it_is_reached()
    {
        var dataset = await Workflow.ImportIrisAsync(_client);
        var model = await Workflow.CreateMlpAsync(_client);
        var created = await Workflow.CreateRunAsync(_client, dataset.Id, model.Id, epochs: 500, lr: 0.02, targetAccuracy: 0.9);

        var run = await Workflow.WaitUntilFinishedAsync(_client, created.Id);

        Assert.Equal(RunStatus.Succeeded, run.Status);
        Assert.Equal(StopReason.TargetAccuracyReached, run.StopReason);
        Assert.True(run.EpochsCompleted < 500);
        Assert.True(run.Metrics[^1].TestAccuracy >= 0.9);
        Assert.All(run.Metrics.SkipLast(1), metric => Assert.True(metric.TestAccuracy < 0.9));
    }

    [Fact]
    public async Task The_same_spec_and_seed_give_the_same_metrics_epoch_for_epoch()
    {
        var dataset = await Workflow.ImportIrisAsync(_client);
        var model = await Workflow.CreateMlpAsync(_client);

        var first = await Workflow.WaitUntilFinishedAsync(_client, (await Workflow.CreateRunAsync(_client, dataset.Id, model.Id, epochs: 8, seed: 123)).Id);
        var second = await Workflow.WaitUntilFinishedAsync(_client, (await Workflow.CreateRunAsync(_client, dataset.Id, model.Id, epochs: 8, seed: 123)).Id);

        Assert.Equal(
            first.Metrics.Select(m => (m.TrainLoss, m.TrainAccuracy, m.TestLoss, m.TestAccuracy)),
            second.Metrics.Select(m => (m.TrainLoss, m.TrainAccuracy, m.TestLoss, m.TestAccuracy)));
    }

    [Fact]
    public async Task A_hub_client_receives_every_epoch_and_the_final_status()
    {
        var dataset = await Workflow.ImportIrisAsync(_client);
        var model = await Workflow.CreateMlpAsync(_client);
        var epochs = new List<EpochCompleted>();
        var finished = new TaskCompletionSource<RunStatusChanged>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(factory.Server.BaseAddress, "hubs/runs"), options =>
            {
                options.Transports = HttpTransportType.LongPolling;
                options.HttpMessageHandlerFactory = _ => factory.Server.CreateHandler();
            })
            .AddJsonProtocol(json => Experiments.Domain.JsonConventions.Apply(json.PayloadSerializerOptions))
            .Build();
        connection.On<EpochCompleted>("EpochCompleted", epoch =>
        {
            lock (epochs)
            {
                epochs.Add(epoch);
            }
        });
        var statuses = new List<RunStatus>();
        var progress = new List<BatchProgress>();
        connection.On<BatchProgress>("BatchProgress", batch =>
        {
            lock (progress)
            {
                progress.Add(batch);
            }
        });
        connection.On<RunStatusChanged>("RunStatusChanged", change =>
        {
            lock (statuses)
            {
                statuses.Add(change.Status);
            }
            if (change.Status is RunStatus.Succeeded or RunStatus.Failed)
            {
                finished.TrySetResult(change);
            }
        });
        await connection.StartAsync();
        await connection.InvokeAsync("JoinAll");

        var run = await Workflow.CreateRunAsync(_client, dataset.Id, model.Id, epochs: 12);
        var final = await finished.Task.WaitAsync(TimeSpan.FromMinutes(1));

        Assert.Equal(run.Id, final.RunId);
        Assert.Equal(RunStatus.Succeeded, final.Status);
        lock (statuses)
        {
            Assert.Equal([RunStatus.Queued, RunStatus.Running, RunStatus.Succeeded], statuses);
        }
        lock (progress)
        {
            Assert.NotEmpty(progress);
            Assert.All(progress, batch => Assert.True(batch.Loss is > 0 and < 100, $"batch {batch.Epoch}.{batch.Batch} loss {batch.Loss}"));
        }
        lock (epochs)
        {
            Assert.Equal(Enumerable.Range(1, 12), epochs.Where(e => e.RunId == run.Id).Select(e => e.Metric.Epoch).Order());
        }
    }
}
