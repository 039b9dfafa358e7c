using System.Diagnostics;
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
using Xunit.Abstractions;

namespace Experiments.Tests.Api;

/// <summary>The runs list that the dashboard and GET /api/runs share, over 10,000 runs seeded straight into the database.</summary>
[Collection(OneAtATime.Name)]
public sealed class RunListTests(ThousandsOfRuns seeded, ITestOutputHelper output) : IClassFixture<ThousandsOfRuns>
{
    [Fact]
    public async Task The_first_page_of_ten_thousand_runs_is_one_page_newest_first()
    {
        var watch = Stopwatch.StartNew();
        var page = await seeded.ListAsync(RunFilter.Newest, 1, 50);
        output.WriteLine($"first page of {page.TotalCount} runs in {watch.ElapsedMilliseconds} ms");

        Assert.Equal(ThousandsOfRuns.Count, page.TotalCount);
        Assert.Equal(50, page.Items.Count);
        Assert.Equal(seeded.Newest, page.Items[0].Id);
        // Read from the stored spec's JSON by SQLite, not from a deserialised spec.
        Assert.All(page.Items, run => Assert.Equal(("adam", 10), (run.Optimizer, run.Epochs)));
        Assert.True(page.Items.Zip(page.Items.Skip(1)).All(pair => pair.First.CreatedAt >= pair.Second.CreatedAt));
    }

    [Fact]
    public async Task Filters_by_status_dataset_model_and_text_count_only_what_matches()
    {
        var queued = await seeded.ListAsync(new RunFilter(Status: RunStatus.Queued), 1, 20);
        Assert.Equal(ThousandsOfRuns.Count / 4, queued.TotalCount);
        Assert.All(queued.Items, run => Assert.Equal(RunStatus.Queued, run.Status));
        // Newest first on the page, so the newest queued run waits longest: the last place in the queue.
        Assert.Equal(ThousandsOfRuns.Count / 4, queued.Items[0].QueuePosition);

        var onIris = await seeded.ListAsync(new RunFilter(DatasetId: seeded.Iris), 1, 10);
        Assert.Equal(ThousandsOfRuns.Count / 2, onIris.TotalCount);
        Assert.All(onIris.Items, run => Assert.Equal("iris", run.DatasetName));

        var byText = await seeded.ListAsync(new RunFilter(Text: "WIDE"), 1, 10);
        Assert.Equal(ThousandsOfRuns.Count / 2, byText.TotalCount);
        Assert.All(byText.Items, run => Assert.Equal("wide-mlp", run.ModelName));

        var both = await seeded.ListAsync(new RunFilter(Status: RunStatus.Succeeded, DatasetId: seeded.Iris, ModelId: seeded.Wide), 1, 10);
        Assert.All(both.Items, run => Assert.True(run.Status == RunStatus.Succeeded && run.DatasetName == "iris" && run.ModelName == "wide-mlp"));

        var nothing = await seeded.ListAsync(new RunFilter(Text: "100%_"), 1, 10);
        Assert.Equal(0, nothing.TotalCount);
    }

    [Fact]
    public async Task Sorting_by_best_accuracy_puts_the_best_run_first_and_pages_do_not_overlap()
    {
        var best = await seeded.ListAsync(new RunFilter(Sort: RunSort.BestTestAccuracy, Descending: true), 1, 100);
        Assert.Equal(seeded.Best, best.Items[0].Id);
        var accuracies = best.Items.Select(run => run.BestTestAccuracy ?? -1).ToList();
        Assert.Equal(accuracies.OrderByDescending(value => value), accuracies);

        var second = await seeded.ListAsync(new RunFilter(Sort: RunSort.BestTestAccuracy, Descending: true), 2, 100);
        Assert.Empty(best.Items.Select(run => run.Id).Intersect(second.Items.Select(run => run.Id)));
    }

    [Fact]
    public async Task The_last_page_ends_with_the_oldest_run_and_name_sorts_page_through_every_run()
    {
        var last = await seeded.ListAsync(RunFilter.Newest, ThousandsOfRuns.Count / 50, 50);
        Assert.Equal(50, last.Items.Count);
        Assert.Equal(seeded.Oldest, last.Items[^1].Id);

        var blobsFirst = await seeded.ListAsync(new RunFilter(Sort: RunSort.Dataset, Descending: false), 1, 100);
        var irisLast = await seeded.ListAsync(new RunFilter(Sort: RunSort.Dataset, Descending: false), ThousandsOfRuns.Count / 100, 100);
        Assert.All(blobsFirst.Items, run => Assert.Equal("blobs", run.DatasetName));
        Assert.All(irisLast.Items, run => Assert.Equal("iris", run.DatasetName));

        var wideFirst = await seeded.ListAsync(new RunFilter(Sort: RunSort.Model, Descending: true), 1, 100);
        Assert.All(wideFirst.Items, run => Assert.Equal("wide-mlp", run.ModelName));
        // Ties newest first.
        Assert.True(wideFirst.Items.Zip(wideFirst.Items.Skip(1)).All(pair => pair.First.CreatedAt >= pair.Second.CreatedAt));
    }

    [Fact]
    public async Task The_rest_api_takes_the_same_filter_and_sort()
    {
        using var client = seeded.Factory.CreateClient();
        var page = await (await client.GetAsync("/api/runs?status=succeeded&sort=bestTestAccuracy&pageSize=5")).ReadAsAsync<Page<RunListItem>>();

        Assert.Equal(ThousandsOfRuns.Count * 3 / 4, page.TotalCount);
        Assert.Equal(seeded.Best, page.Items[0].Id);
        Assert.Equal(5, page.Items.Count);
    }
}

/// <summary>10,000 runs over two datasets and two models: every fourth queued, the others succeeded with a best accuracy.</summary>
public sealed class ThousandsOfRuns : IAsyncLifetime, IDisposable
{
    public const int Count = 10_000;

    public ApiFactory Factory { get; } = new() { Trains = false };

    public Guid Iris { get; private set; }

    public Guid Wide { get; private set; }

    public Guid Newest { get; private set; }

    public Guid Oldest { get; private set; }

    public Guid Best { get; private set; }

    public async Task<Page<RunListItem>> ListAsync(RunFilter filter, int page, int pageSize)
    {
        await using var scope = Factory.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<IRunQueries>().ListAsync(filter, page, pageSize, CancellationToken.None);
    }

    public async Task InitializeAsync()
    {
        await using var scope = Factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ExperimentsDbContext>();
        var start = DateTimeOffset.UtcNow.AddDays(-30);
        var iris = NewDataset("iris", start);
        var blobs = NewDataset("blobs", start);
        var small = new ModelDefinition(Guid.NewGuid(), "small-mlp", 1, [new LayerSpec("linear", Parameters(("outFeatures", 3)))], start);
        var wide = new ModelDefinition(Guid.NewGuid(), "wide-mlp", 1, [new LayerSpec("linear", Parameters(("outFeatures", 3)))], start);
        db.AddRange(iris, blobs, small, wide);
        (Iris, Wide) = (iris.Id, wide.Id);
        var bestAccuracy = -1.0;
        for (var i = 0; i < Count; i++)
        {
            var created = start.AddSeconds(i * 10);
            var spec = new RunSpec
            {
                DatasetId = i % 2 == 0 ? iris.Id : blobs.Id,
                ModelId = i % 4 < 2 ? small.Id : wide.Id,
                Optimizer = new OptimizerSpec("adam", Parameters(("lr", 0.001))),
                Loss = new LossSpec("crossEntropy"),
                Epochs = 10,
                BatchSize = 32,
                Seed = i,
            };
            var run = new Run(Guid.NewGuid(), spec, created);
            if (i % 4 != 3)
            {
                var accuracy = (double)(i % 997) / 997;
                run.Claim("seed", new RunEnvironment("cpu", "0.107.0", "2.10.0", 1, "test", "seed"), created, TimeSpan.FromMinutes(1));
                run.RecordEpoch(new EpochMetric(1, 1.0, accuracy, 1.0, accuracy, 0.001, 1, 1, 1));
                run.Succeed(StopReason.EpochsCompleted, null, created.AddSeconds(5));
                if (accuracy >= bestAccuracy)
                {
                    // Ties go to the newer run, as the list breaks them.
                    (bestAccuracy, Best) = (accuracy, run.Id);
                }
            }
            db.Runs.Add(run);
            Newest = run.Id;
            Oldest = i == 0 ? run.Id : Oldest;
        }
        await db.SaveChangesAsync();
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose() => Factory.Dispose();

    private static Dataset NewDataset(string name, DateTimeOffset createdAt) => new(Guid.NewGuid(), name, DatasetFormat.Csv, [4], ["a", "b", "c"], [1, 1, 1], 2, 1,
        new FeatureStatistics(0, 1, 0.5, 0.1), Guid.NewGuid().ToString("N"), $"{name}.bin", createdAt);

    private static Dictionary<string, JsonElement> Parameters(params (string Name, object Value)[] values) =>
        values.ToDictionary(value => value.Name, value => JsonSerializer.SerializeToElement(value.Value));
}
