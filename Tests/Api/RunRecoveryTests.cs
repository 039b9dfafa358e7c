using Experiments.Api.Persistence;
using Experiments.Domain.Losses;
using Experiments.Domain.Optimizers;
using Experiments.Domain.Runs;
using Experiments.Domain.Validation;
using Experiments.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Experiments.Tests.Api;

/// <summary>The run row owns the truth: runs that no job would deliver are found and delivered.</summary>
[Collection(OneAtATime.Name)]
public sealed class RunRecoveryTests : IDisposable
{
    private readonly ApiFactory _factory = new() { Settings = { ["Experiments:RunLeaseDuration"] = "00:00:02" } };

    [Fact]
    public async Task Regression_a_queued_run_whose_job_is_gone_is_queued_again_and_trains()
    {
        using var client = _factory.CreateClient();
        var dataset = await Workflow.ImportIrisAsync(client);
        var model = await Workflow.CreateMlpAsync(client);
        Guid runId;
        await using (var scope = _factory.Services.CreateAsyncScope())
        {
            // A queued run as it is once its job was deleted in the job dashboard or lost with the job storage: a row, no job.
            var db = scope.ServiceProvider.GetRequiredService<ExperimentsDbContext>();
            var errors = new ValidationErrors();
            var spec = RunSpecValidator.Resolve(new RunSpec
            {
                DatasetId = dataset.Id, ModelId = model.Id, Optimizer = new OptimizerSpec("adam"), Loss = new LossSpec("crossEntropy"), Epochs = 2,
            }, 7, errors)!;
            var run = new Run(Guid.NewGuid(), spec, DateTimeOffset.UtcNow);
            db.Runs.Add(run);
            await db.SaveChangesAsync();
            runId = run.Id;
        }

        var finished = await Workflow.WaitUntilFinishedAsync(client, runId, TimeSpan.FromSeconds(90));

        Assert.Equal(RunStatus.Succeeded, finished.Status);
        Assert.Equal(2, finished.EpochsCompleted);
    }

    public void Dispose() => _factory.Dispose();
}
