using System.Net;
using System.Net.Http.Json;
using System.Text;
using Experiments.Api.Persistence;
using Experiments.Domain;
using Experiments.Domain.Datasets;
using Experiments.Domain.Losses;
using Experiments.Domain.Optimizers;
using Experiments.Domain.Runs;
using Experiments.Tests.Support;
using Experiments.Tests.Training.Data;
using Experiments.Training.Data.Import;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace Experiments.Tests.Api.Datasets;

[Collection(OneAtATime.Name)]
public sealed class DatasetManagementTests(ApiFactory factory) : DatasetManagementSuite<ApiFactory>(factory), IClassFixture<ApiFactory>;

/// <summary>The same suite on PostgreSQL.</summary>
[Collection(PostgreSqlCollection.Name)]
public sealed class DatasetManagementOnPostgreSqlTests(PostgreSqlApiFactory factory) : DatasetManagementSuite<PostgreSqlApiFactory>(factory), IClassFixture<PostgreSqlApiFactory>;

/// <summary>Imported datasets of every format train; they are listed, previewed and deleted.</summary>
public abstract class DatasetManagementSuite<TFactory>(TFactory factory) where TFactory : ApiFactory
{
    private readonly HttpClient _client = factory.CreateClient();

    [Theory]
    [InlineData("csv")]
    [InlineData("npz")]
    [InlineData("npy")]
    [InlineData("pickle")]
    [InlineData("idx")]
    public async Task A_dataset_of_each_format_trains_a_short_run_to_success(string format)
    {
        var dataset = await ImportAsync(format);
        var model = await CreateModelAsync(dataset);

        var created = await Workflow.CreateRunAsync(_client, dataset.Id, model, epochs: 3, lr: 0.02);
        var run = await Workflow.WaitUntilFinishedAsync(_client, created.Id);

        Assert.True(run.Status == RunStatus.Succeeded, run.Error);
        Assert.Equal(3, run.EpochsCompleted);
        Assert.All(run.Metrics, metric => Assert.True(double.IsFinite(metric.TrainLoss)));
        Assert.True(run.Metrics[^1].TrainLoss < run.Metrics[0].TrainLoss, $"train loss {run.Metrics[0].TrainLoss} → {run.Metrics[^1].TrainLoss}");
    }

    [Fact]
    public async Task The_mnist_sample_imports_in_one_call_and_a_small_mlp_learns_it_in_one_epoch()
    {
        var response = await _client.PostAsync("/api/datasets", DatasetFiles.Form("mnist-10k.npz",
            await File.ReadAllBytesAsync(Path.Combine(AppContext.BaseDirectory, "samples", "mnist-10k.npz")), ("scale", "1/255"), ("reshape", "1,28,28")));
        Assert.True(response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var mnist = await response.ReadAsAsync<DatasetView>();

        Assert.Equal((8000, 2000, 10, "uint8"), (mnist.TrainCount, mnist.TestCount, mnist.ClassCount, mnist.Dtype));
        Assert.Equal([1, 28, 28], mnist.SampleShape);
        Assert.Equal(10_000, mnist.ClassCounts.Sum());
        var created = await _client.PostAsJsonAsync("/api/runs", new
        {
            datasetId = mnist.Id, modelId = await CreateModelAsync(mnist), optimizer = new { type = "adam", lr = 0.01 }, loss = new { type = "crossEntropy" },
            epochs = 1, batchSize = 100, seed = 1,
        });
        Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        var run = await Workflow.WaitUntilFinishedAsync(_client, (await created.ReadAsAsync<RunView>()).Id);
        Assert.True(run.Status == RunStatus.Succeeded, run.Error);
        Assert.True(run.Metrics[0].TestAccuracy > 0.8, $"test accuracy {run.Metrics[0].TestAccuracy}");
    }

    [Fact]
    public async Task The_same_bytes_with_other_options_are_another_dataset()
    {
        var bytes = await File.ReadAllBytesAsync(Workflow.IrisPath);

        var first = await _client.PostAsync("/api/datasets", Workflow.CsvForm(bytes, "iris.csv", ("seed", "1")));
        var again = await _client.PostAsync("/api/datasets", Workflow.CsvForm(bytes, "iris.csv", ("seed", "1")));
        var other = await _client.PostAsync("/api/datasets", Workflow.CsvForm(bytes, "iris.csv", ("seed", "2")));

        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var firstId = (await first.ReadAsAsync<DatasetView>()).Id;
        Assert.Equal(firstId, (await again.ReadAsAsync<DatasetView>()).Id);
        Assert.NotEqual(firstId, (await other.ReadAsAsync<DatasetView>()).Id);
    }


    [Fact]
    public async Task Datasets_are_listed_newest_first_in_pages()
    {
        var csv = await ImportAsync("csv");
        var npz = await ImportAsync("npz");

        var page = await (await _client.GetAsync("/api/datasets?page=1&pageSize=1")).ReadAsAsync<Page<DatasetView>>();

        Assert.Single(page.Items);
        Assert.True(page.TotalCount >= 2);
        Assert.Equal(1, page.PageSize);
        var all = await (await _client.GetAsync("/api/datasets?pageSize=500")).ReadAsAsync<Page<DatasetView>>();
        Assert.True(all.Items.ToList().FindIndex(d => d.Id == npz.Id) < all.Items.ToList().FindIndex(d => d.Id == csv.Id));
        var one = await (await _client.GetAsync($"/api/datasets/{npz.Id}")).ReadAsAsync<DatasetView>();
        Assert.Equal([1, 6, 6], one.SampleShape);
    }

    [Fact]
    public async Task Preview_shows_rows_of_vectors_and_images_as_png()
    {
        var iris = await Workflow.ImportIrisAsync(_client);
        var images = await ImportAsync("npz");

        var rows = await (await _client.GetAsync($"/api/datasets/{iris.Id}/preview?count=5")).ReadAsAsync<DatasetPreview>();
        var pictures = await (await _client.GetAsync($"/api/datasets/{images.Id}/preview?split=test&count=3")).ReadAsAsync<DatasetPreview>();

        Assert.False(rows.Images);
        Assert.Equal(5, rows.Samples.Count);
        Assert.All(rows.Samples, sample => Assert.Equal(4, sample.Features!.Length));
        Assert.All(rows.Samples, sample => Assert.Contains(sample.Label, iris.ClassNames));
        Assert.True(pictures.Images);
        Assert.Equal("test", pictures.Split);
        var png = Convert.FromBase64String(pictures.Samples[0].Png!["data:image/png;base64,".Length..]);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
        Assert.Equal(6, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)));
        Assert.Equal(6, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
        Assert.Equal(HttpStatusCode.BadRequest, (await _client.GetAsync($"/api/datasets/{iris.Id}/preview?split=validation")).StatusCode);
    }

    [Fact]
    public async Task Delete_is_refused_while_runs_use_the_dataset_and_force_deletes_the_finished_runs_too()
    {
        var dataset = await ImportAsync("pickle");
        var model = await CreateModelAsync(dataset);
        var run = await Workflow.WaitUntilFinishedAsync(_client, (await Workflow.CreateRunAsync(_client, dataset.Id, model, epochs: 1)).Id);
        var tensorFile = Path.Combine(factory.DataFolder, "datasets", $"{dataset.Id:N}.bin");

        var refused = await _client.DeleteAsync($"/api/datasets/{dataset.Id}");
        var problem = await refused.Content.ReadFromJsonAsync<ValidationProblemDetails>();
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("used by runs (1 succeeded); send force=true", Assert.Single(problem!.Errors["force"]), StringComparison.Ordinal);
        Assert.True(File.Exists(tensorFile));

        var runFolder = Path.Combine(factory.DataFolder, "runs", run.Id.ToString("N"));
        Assert.True(Directory.Exists(runFolder));

        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"/api/datasets/{dataset.Id}?force=true")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync($"/api/datasets/{dataset.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync($"/api/runs/{run.Id}")).StatusCode);
        Assert.False(Directory.Exists(runFolder));
        Assert.False(File.Exists(tensorFile));
    }

    [Fact]
    public async Task Force_does_not_delete_a_dataset_under_a_queued_run()
    {
        var dataset = await ImportAsync("idx");
        var model = await CreateModelAsync(dataset);
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            // A queued run that no worker picks up: written directly, without a job.
            var db = scope.ServiceProvider.GetRequiredService<ExperimentsDbContext>();
            db.Runs.Add(new Run(Guid.NewGuid(), new RunSpec
            {
                DatasetId = dataset.Id, ModelId = model, Optimizer = new OptimizerSpec("sgd", new Dictionary<string, System.Text.Json.JsonElement>()), Loss = new LossSpec("crossEntropy"), Epochs = 1,
            }, DateTimeOffset.UtcNow));
            await db.SaveChangesAsync();
        }

        var refused = await _client.DeleteAsync($"/api/datasets/{dataset.Id}?force=true");

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("queued or running", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync($"/api/datasets/{dataset.Id}")).StatusCode);
    }

    [Fact]
    public async Task Regression_a_forced_delete_racing_run_creations_never_deletes_a_run_it_answered_202_for_and_never_answers_500()
    {
        for (var round = 0; round < 8; round++)
        {
            var dataset = await ImportAsync("csv");
            var model = await CreateModelAsync(dataset);
            // Too long to finish during the round: a run answered 202 is queued or running when the delete decides.
            var body = new { datasetId = dataset.Id, modelId = model, optimizer = new { type = "sgd" }, loss = new { type = "crossEntropy" }, epochs = 10_000 };
            var creates = Enumerable.Range(0, 4).Select(_ => _client.PostAsJsonAsync("/api/runs", body)).ToList();
            var delete = _client.DeleteAsync($"/api/datasets/{dataset.Id}?force=true");
            var answers = await Task.WhenAll(creates);
            var deleted = await delete;

            var accepted = new List<RunView>();
            foreach (var answer in answers)
            {
                Assert.True(answer.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.Conflict or HttpStatusCode.BadRequest,
                    $"{(int)answer.StatusCode}: {await answer.Content.ReadAsStringAsync()}");
                if (answer.StatusCode == HttpStatusCode.Accepted)
                {
                    accepted.Add(await answer.ReadAsAsync<RunView>());
                }
            }
            Assert.Equal(accepted.Count > 0 ? HttpStatusCode.Conflict : HttpStatusCode.NoContent, deleted.StatusCode);
            foreach (var run in accepted)
            {
                Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync($"/api/runs/{run.Id}")).StatusCode);
                await _client.PostAsync($"/api/runs/{run.Id}/cancel", null);
                await Workflow.WaitUntilFinishedAsync(_client, run.Id);
            }
        }
    }

    [Fact]
    public async Task Deleting_an_unused_dataset_removes_its_row_and_file_and_an_unknown_id_is_404()
    {
        var dataset = await ImportAsync("npy");

        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"/api/datasets/{dataset.Id}")).StatusCode);
        Assert.False(File.Exists(Path.Combine(factory.DataFolder, "datasets", $"{dataset.Id:N}.bin")));
        Assert.Equal(HttpStatusCode.NotFound, (await _client.DeleteAsync($"/api/datasets/{dataset.Id}")).StatusCode);
    }

    private static int _imports;

    /// <summary>
    /// A small learnable dataset in the given format (images are 6×6 bytes; vectors are blobs), a new dataset on
    /// each call: the seed sent differs, so the content hash does.
    /// </summary>
    private async Task<DatasetView> ImportAsync(string format)
    {
        var seed = ("seed", Interlocked.Increment(ref _imports).ToString(System.Globalization.CultureInfo.InvariantCulture));
        var (images, labels) = DatasetFiles.Images(60, 6, seed: 11);
        var (testImages, testLabels) = DatasetFiles.Images(15, 6, seed: 12);
        var content = format switch
        {
            "csv" => DatasetFiles.Form("blobs.csv", Encoding.UTF8.GetBytes(BlobsCsv()), ("standardize", "true"), seed),
            "npz" => DatasetFiles.Form("digits.npz", DatasetFiles.Npz(true,
                ("x_train", DatasetFiles.Npy(images, 60, 6, 6)), ("y_train", DatasetFiles.Npy(labels, 60)),
                ("x_test", DatasetFiles.Npy(testImages, 15, 6, 6)), ("y_test", DatasetFiles.Npy(testLabels, 15))), ("scale", "1/255"), ("reshape", "1,6,6"), seed),
            "npy" => DatasetFiles.Form([("file", "x.npy", DatasetFiles.Npy(images, 60, 36)), ("labelsFile", "y.npy", DatasetFiles.Npy(labels, 60))], ("scale", "1/255"), seed),
            "pickle" => DatasetFiles.Form("numpy2-protocol5.pkl", await File.ReadAllBytesAsync(DatasetFiles.FixturePath("numpy2-protocol5.pkl")), seed),
            "idx" => DatasetFiles.Form([("file", "images.gz", DatasetFiles.Gzip(DatasetFiles.Idx(0x08, [60, 6, 6], images))),
                ("labelsFile", "labels.gz", DatasetFiles.Gzip(DatasetFiles.Idx(0x08, [60], labels)))], ("standardize", "true"), seed),
            _ => throw new ArgumentException(format),
        };
        var response = await _client.PostAsync("/api/datasets", content);
        Assert.True(response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.ReadAsAsync<DatasetView>();
    }

    private static string BlobsCsv() => "a,b,c,d,label\n" + string.Join("\n", Enumerable.Range(0, 60).Select(i =>
        string.Join(",", DatasetConverterTests.Row(i, test: false).Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture))) + "," + (i % 3)));

    private async Task<Guid> CreateModelAsync(DatasetView dataset)
    {
        var response = await _client.PostAsJsonAsync("/api/models", new
        {
            name = $"mlp-{dataset.Id:N}",
            layers = new object[]
            {
                new { type = "flatten" },
                new { type = "linear", outFeatures = 16 },
                new { type = "relu" },
                new { type = "linear", outFeatures = dataset.ClassCount },
            },
        });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.ReadAsAsync<Experiments.Domain.Models.ModelView>()).Id;
    }
}
