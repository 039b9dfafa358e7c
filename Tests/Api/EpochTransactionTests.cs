using System.Data.Common;
using Experiments.Api.Persistence;
using Experiments.Api.Runs;
using Experiments.Domain.Runs;
using Experiments.Tests.Support;
using Experiments.Training;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Experiments.Tests.Api;

/// <summary>What the service stores for an epoch, it stores in one transaction: the epoch, its log lines, the run's summary.</summary>
[Collection(OneAtATime.Name)]
public sealed class EpochTransactionTests : IDisposable
{
    private readonly ApiFactory _factory = new() { Trains = false };

    [Fact]
    public async Task An_epoch_its_log_lines_and_the_runs_summary_are_one_commit()
    {
        var client = _factory.CreateClient();
        var dataset = await Workflow.ImportIrisAsync(client);
        var model = await Workflow.CreateMlpAsync(client);
        var created = await Workflow.CreateRunAsync(client, dataset.Id, model.Id, epochs: 3);
        var commits = new CommitCounter();
        var options = new DbContextOptionsBuilder<ExperimentsDbContext>()
            .UseSqlite($"Data Source={Path.Combine(_factory.DataFolder, "experiments.db")}")
            .AddInterceptors(commits)
            .Options;
        await using var db = new ExperimentsDbContext(options);
        var run = await db.Runs.SingleAsync(r => r.Id == created.Id);
        run.Claim("test-worker", new RunEnvironment("cpu", "0.107.0", "2.10.0", 1, Environment.MachineName, "test-worker"), DateTimeOffset.UtcNow, TimeSpan.FromMinutes(1));
        await db.SaveChangesAsync();
        var claimed = commits.Count;
        var hub = _factory.Services.GetRequiredService<IHubContext<RunsHub, IRunsClient>>();
        await using (var publisher = new RunProgressPublisher(db, hub, run, "test-worker", TimeProvider.System, NullLogger.Instance))
        {
            publisher.BatchCompleted(1, 5, 8, 5, 0.9f, logged: true);
            await publisher.EpochCompletedAsync(new EpochMetric(1, 0.9, 0.6, 0.8, 0.7, 0.01, 1.5, 0.2, 600),
                [new(RunLogLevel.Info, "epoch 1/3: …"), new(RunLogLevel.Warning, "test accuracy has not improved …")], CancellationToken.None);
        }

        Assert.Equal(1, commits.Count - claimed);
        var stored = await (await client.GetAsync($"/api/runs/{created.Id}")).ReadAsAsync<RunView>();
        Assert.Equal(1, stored.EpochsCompleted);
        Assert.Equal([1], stored.Metrics.Select(metric => metric.Epoch));
        var logs = await (await client.GetAsync($"/api/runs/{created.Id}/logs")).ReadAsAsync<Experiments.Domain.Page<RunLogLine>>();
        Assert.Equal(["epoch 1/3: …", "test accuracy has not improved …"], logs.Items.Select(line => line.Message).TakeLast(2));
    }

    public void Dispose() => _factory.Dispose();

    private sealed class CommitCounter : DbTransactionInterceptor
    {
        public int Count { get; private set; }

        public override Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
        {
            Count++;
            return Task.CompletedTask;
        }
    }
}
