using System.Net;
using System.Text.Json;
using Experiments.Api.Persistence;
using Experiments.Domain;
using Experiments.Domain.Datasets;
using Experiments.Domain.Losses;
using Experiments.Domain.Models;
using Experiments.Domain.Optimizers;
using Experiments.Domain.Runs;
using Experiments.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Experiments.Tests.Api;

[Collection(OneAtATime.Name)]
public sealed class CompiledReadsTests(RunsToList seeded) : CompiledReadsSuite(seeded), IClassFixture<RunsToList>;

/// <summary>The same suite on PostgreSQL, whose model (and so whose compiled queries) differ from SQLite's.</summary>
[Collection(PostgreSqlCollection.Name)]
public sealed class CompiledReadsOnPostgreSqlTests(RunsToListOnPostgreSql seeded) : CompiledReadsSuite(seeded), IClassFixture<RunsToListOnPostgreSql>;

/// <summary>
/// The list as it opens (every run, newest first) and a run's metrics are answered by compiled queries; every other filter and
/// order by the general query, which takes each page's order out of the subquery that chooses it. Over the same runs they
/// must answer alike, on both engines.
/// </summary>
public abstract class CompiledReadsSuite(RunsToList seeded)
{
    private const int PageSize = 50;

    [Fact]
    public async Task The_list_as_it_opens_pages_like_a_filter_that_every_run_passes()
    {
        // Every model's name contains "-mlp": the same runs in the same order, through the general query.
        var everyRun = new RunFilter(Text: "-mlp");
        var lastPage = (RunsToList.Count + PageSize - 1) / PageSize;
        foreach (var page in Enumerable.Range(1, lastPage + 1).Append(int.MaxValue))
        {
            var opening = await seeded.ListAsync(RunFilter.Newest, page, PageSize);
            var general = await seeded.ListAsync(everyRun, page, PageSize);

            Assert.Equal(RunsToList.Count, opening.TotalCount);
            Assert.Equal(general.TotalCount, opening.TotalCount);
            Assert.Equal(general.Items, opening.Items);
            Assert.Equal(page <= lastPage ? Math.Min(PageSize, RunsToList.Count - ((page - 1) * PageSize)) : 0, opening.Items.Count);
        }
    }

    [Fact]
    public async Task Every_run_is_listed_once_newest_first_and_queued_runs_show_their_place_in_the_queue()
    {
        var listed = new List<RunListItem>();
        for (var page = 1; listed.Count < RunsToList.Count; page++)
        {
            listed.AddRange((await seeded.ListAsync(RunFilter.Newest, page, PageSize)).Items);
        }

        Assert.Equal(seeded.Runs.Keys.Order(), listed.Select(run => run.Id).Order());
        Assert.True(listed.Zip(listed.Skip(1)).All(pair => pair.First.CreatedAt >= pair.Second.CreatedAt));
        Assert.All(listed, run => Assert.Equal(seeded.Runs[run.Id], run.QueuePosition));
        Assert.All(listed, run => Assert.Equal(("adam", 10), (run.Optimizer, run.Epochs)));
    }

    [Fact]
    public async Task Every_order_pages_through_every_run_once()
    {
        foreach (var sort in Enum.GetValues<RunSort>())
        {
            foreach (var descending in new[] { true, false })
            {
                var filter = new RunFilter(Sort: sort, Descending: descending);
                var listed = new List<RunListItem>();
                for (var page = 1; page <= (RunsToList.Count / PageSize) + 1; page++)
                {
                    listed.AddRange((await seeded.ListAsync(filter, page, PageSize)).Items);
                }

                Assert.Equal(seeded.Runs.Keys.Order(), listed.Select(run => run.Id).Order());
                var names = sort switch
                {
                    RunSort.Dataset => listed.Select(run => run.DatasetName).ToList(),
                    RunSort.Model => listed.Select(run => run.ModelName).ToList(),
                    _ => null,
                };
                if (names is not null)
                {
                    Assert.Equal(descending ? names.OrderDescending(StringComparer.Ordinal) : names.Order(StringComparer.Ordinal), names);
                }
            }
        }
    }

    [Fact]
    public async Task The_rest_api_answers_the_list_as_it_opens_like_the_general_query()
    {
        using var client = seeded.Factory.CreateClient();
        var answered = await (await client.GetAsync($"/api/runs?pageSize={PageSize}&page=2")).ReadAsAsync<Page<RunListItem>>();
        var general = await seeded.ListAsync(new RunFilter(Text: "-mlp"), 2, PageSize);

        Assert.Equal(general.TotalCount, answered.TotalCount);
        Assert.Equal(general.Items, answered.Items);
    }

    [Fact]
    public async Task Metrics_are_the_runs_epochs_and_batches_in_order_empty_for_a_run_without_any_and_404_for_no_run()
    {
        using var client = seeded.Factory.CreateClient();

        var trained = await (await client.GetAsync($"/api/runs/{seeded.Trained}/metrics")).ReadAsAsync<RunMetricSeries>();
        Assert.Equal(new[] { 1, 2, 3 }, trained.Epoch);
        Assert.Equal(new[] { 0.9, 0.6, 0.3 }, trained.TrainLoss);
        Assert.Equal(new long[] { 1, 2 }, trained.Batches.Step);
        Assert.Equal(new[] { 0.8, 0.7 }, trained.Batches.Loss);

        var queued = await client.GetAsync($"/api/runs/{seeded.Queued}/metrics");
        Assert.Equal(HttpStatusCode.OK, queued.StatusCode);
        var empty = await queued.ReadAsAsync<RunMetricSeries>();
        Assert.Empty(empty.Epoch);
        Assert.Empty(empty.Batches.Step);

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/runs/{Guid.NewGuid()}/metrics")).StatusCode);
    }
}

/// <summary>
/// 230 runs on a host that trains nothing: two by two created at the same time (the id breaks the tie), every third queued,
/// the others succeeded; one of them with three epochs and two logged batches.
/// </summary>
public class RunsToList : IAsyncLifetime, IDisposable
{
    public const int Count = 230;

    public RunsToList() : this(new ApiFactory { Trains = false })
    {
    }

    protected RunsToList(ApiFactory factory) => Factory = factory;

    public ApiFactory Factory { get; }

    /// <summary>Every run's id and its place in the queue (null for a run that is not queued).</summary>
    public Dictionary<Guid, int?> Runs { get; } = [];

    public Guid Trained { get; private set; }

    public Guid Queued { get; private set; }

    public async Task<Page<RunListItem>> ListAsync(RunFilter filter, int page, int pageSize)
    {
        await using var scope = Factory.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<IRunQueries>().ListAsync(filter, page, pageSize, CancellationToken.None);
    }

    public async Task InitializeAsync()
    {
        if (Factory is IAsyncLifetime database)
        {
            await database.InitializeAsync();
        }
        await using var scope = Factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ExperimentsDbContext>();
        var start = DateTimeOffset.UtcNow.AddDays(-1);
        var datasets = new[] { NewDataset("iris", start), NewDataset("blobs", start) };
        var models = new[] { NewModel("small-mlp", start), NewModel("wide-mlp", start) };
        db.AddRange(datasets);
        db.AddRange(models);
        var queuePosition = 0;
        for (var i = 0; i < Count; i++)
        {
            // Two consecutive runs are never both queued, so the queue's order is the order of creation alone.
            var created = start.AddSeconds(i / 2 * 10);
            var run = new Run(Guid.NewGuid(), new RunSpec
            {
                DatasetId = datasets[i % 2].Id,
                ModelId = models[i / 2 % 2].Id,
                Optimizer = new OptimizerSpec("adam", Parameters(("lr", 0.001))),
                Loss = new LossSpec("crossEntropy"),
                Epochs = 10,
                BatchSize = 32,
                Seed = i,
            }, created);
            run.AttributeTo(i % 5 == 0 ? "alice" : null);
            if (i % 3 == 0)
            {
                Runs[run.Id] = ++queuePosition;
                Queued = run.Id;
            }
            else
            {
                run.Claim("seed", new RunEnvironment("cpu", "0.107.0", "2.10.0", 1, "test", "seed"), created, TimeSpan.FromMinutes(1));
                run.RecordEpoch(new EpochMetric(1, 1.0, i / (double)Count, 1.0, i / (double)Count, 0.001, 1, 1, 1));
                run.Succeed(StopReason.EpochsCompleted, null, created.AddSeconds(5));
                Runs[run.Id] = null;
                Trained = run.Id;
            }
            db.Runs.Add(run);
        }
        foreach (var (epoch, loss) in new[] { (1, 0.9), (2, 0.6), (3, 0.3) })
        {
            db.AddEpoch(Trained, new EpochMetric(epoch, loss, 0.5, loss, 0.5, 0.001, 1, 1, 1), "seed");
        }
        db.BatchMetrics.AddRange(new BatchMetric(Trained, 1, 1, 2, 0.7), new BatchMetric(Trained, 1, 0, 1, 0.8));
        await db.SaveChangesAsync();
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose()
    {
        Factory.Dispose();
        GC.SuppressFinalize(this);
    }

    private static Dataset NewDataset(string name, DateTimeOffset createdAt) => new(Guid.NewGuid(), name, DatasetFormat.Csv, [4], ["a", "b", "c"], [1, 1, 1], 2, 1,
        new FeatureStatistics(0, 1, 0.5, 0.1), Guid.NewGuid().ToString("N"), $"{name}.bin", createdAt);

    private static ModelDefinition NewModel(string name, DateTimeOffset createdAt) =>
        new(Guid.NewGuid(), name, 1, [new LayerSpec("linear", Parameters(("outFeatures", 3)))], createdAt);

    private static Dictionary<string, JsonElement> Parameters(params (string Name, object Value)[] values) =>
        values.ToDictionary(value => value.Name, value => JsonSerializer.SerializeToElement(value.Value));
}

/// <summary><see cref="RunsToList"/> on a database of its own on the PostgreSQL collection's cluster.</summary>
public sealed class RunsToListOnPostgreSql(PostgreSqlFixture cluster) : RunsToList(new PostgreSqlApiFactory(cluster) { Trains = false });
