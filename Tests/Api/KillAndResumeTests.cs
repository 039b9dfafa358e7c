using Experiments.Domain;
using Experiments.Domain.Runs;
using Experiments.Tests.Support;

namespace Experiments.Tests.Api;

/// <summary>The service killed with SIGKILL mid-run resumes the run after a restart.</summary>
[Collection(OneAtATime.Name)]
public sealed class KillAndResumeTests : IDisposable
{
    private readonly TemporaryFolder _dataFolder = new();

    [Fact]
    public async Task A_run_killed_mid_training_resumes_to_exactly_the_requested_epochs()
    {
        string[] settings = ["--Experiments:RunLeaseDuration=00:00:02", "--Experiments:QueuePollInterval=00:00:00.100"];
        const int Epochs = 12;
        const int WatchEvery = 50;
        Guid runId;
        int trainCount;
        await using (var first = await ServiceProcess.StartAsync(_dataFolder.Path, settings))
        {
            using var client = first.CreateClient();
            var dataset = await Workflow.ImportCsvAsync(client, SyntheticData.BlobsCsv(rows: 2400, features: 12, seed: 9), "blobs");
            var model = await Workflow.CreateMlpAsync(client, name: "blobs-mlp");
            trainCount = dataset.TrainCount;
            runId = (await Workflow.CreateRunAsync(client, dataset.Id, model.Id, epochs: Epochs, batchSize: 4, seed: 5, watch: new { every = WatchEvery })).Id;
            await Workflow.WaitUntilAsync(client, runId, run => run.EpochsCompleted >= 3);
            await first.KillAsync();
        }

        await using var second = await ServiceProcess.StartAsync(_dataFolder.Path, settings);
        using var secondClient = second.CreateClient();
        var resumed = await Workflow.WaitUntilFinishedAsync(secondClient, runId, TimeSpan.FromMinutes(3));
        var logs = await (await secondClient.GetAsync($"/api/runs/{runId}/logs?pageSize=500")).ReadAsAsync<Page<RunLogLine>>();
        var layers = await (await secondClient.GetAsync($"/api/runs/{runId}/layers")).ReadAsAsync<RunLayerSeries>();

        Assert.Equal(RunStatus.Succeeded, resumed.Status);
        Assert.Equal(Epochs, resumed.EpochsCompleted);
        Assert.Equal(Enumerable.Range(1, Epochs), resumed.Metrics.Select(metric => metric.Epoch));
        Assert.True(resumed.Resumes >= 1);
        Assert.Contains(logs.Items, line => line.Message.Contains("resumes the run after epoch", StringComparison.Ordinal));
        Assert.Contains(logs.Items, line => line.Message.StartsWith("resumed from the checkpoint of epoch", StringComparison.Ordinal));
        // The snapshots of the epochs trained again after the checkpoint are neither lost nor stored twice.
        var steps = Epochs * ((trainCount + 3) / 4);
        Assert.Equal(Enumerable.Range(1, steps / WatchEvery).Select(index => (long)index * WatchEvery), layers.Step);
    }

    public void Dispose() => _dataFolder.Dispose();
}
