using System.Buffers.Binary;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using Experiments.Domain.Datasets;
using Experiments.Domain.Runs;
using Experiments.Tests.Support;

namespace Experiments.Tests.Api;

/// <summary>GET /api/runs/{id}/mistakes on runs trained for real on Iris and the MNIST sample.</summary>
[Collection(OneAtATime.Name)]
public sealed class MistakesTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task Wrong_counts_the_confusion_matrix_off_the_diagonal_and_each_cell_by_its_true_and_predicted_class()
    {
        var run = await BrieflyTrainedIrisAsync();
        var confusion = run.Evaluation!.ConfusionMatrix;
        var offDiagonal = confusion.SelectMany((row, t) => row.Where((_, p) => p != t)).Sum();
        Assert.True(offDiagonal > 1, $"the briefly trained model should make mistakes; its confusion matrix is {Describe(confusion)}");

        var wrong = await MistakesAsync(run.Id, "kind=wrong&count=100");

        Assert.Equal(offDiagonal, wrong.Total);
        Assert.Equal(offDiagonal, wrong.Samples.Count);
        Assert.Equal(("test", "test", "wrong"), (wrong.Split, wrong.StoredSplit, wrong.Kind));
        Assert.All(wrong.Samples, sample => Assert.NotEqual(sample.TrueClass, sample.PredictedClass));
        // wrong lists the misclassified samples in the split's order.
        Assert.Equal(wrong.Samples.Select(sample => sample.Index).Order(), wrong.Samples.Select(sample => sample.Index));
        for (var t = 0; t < 3; t++)
        {
            for (var p = 0; p < 3; p++)
            {
                // By name for the true class, by index for the predicted one.
                var cell = await MistakesAsync(run.Id, $"kind={(t == p ? "ambiguous" : "wrong")}&true={run.Evaluation.ClassNames[t]}&predicted={p}&count=100");
                Assert.True(confusion[t][p] == cell.Total, $"cell true {t}, predicted {p}: {cell.Total} samples, the matrix {Describe(confusion)}");
                Assert.Equal((t, p), (cell.TrueClass!.Value, cell.PredictedClass!.Value));
                Assert.All(cell.Samples, sample => Assert.Equal((t, p), (sample.TrueClass, sample.PredictedClass)));
            }
        }
    }

    [Fact]
    public async Task ConfidentWrong_comes_by_descending_probability_and_ambiguous_by_ascending_margin_with_probabilities_that_sum_to_one()
    {
        var run = await BrieflyTrainedIrisAsync();

        var confident = await MistakesAsync(run.Id, "kind=confidentWrong&count=100");
        var ambiguous = await MistakesAsync(run.Id, "kind=ambiguous&count=10");

        var confidence = confident.Samples.Select(sample => sample.Probabilities[sample.PredictedClass]).ToList();
        Assert.True(confidence.Count > 1);
        Assert.Equal(confidence.OrderDescending(), confidence);
        Assert.All(confident.Samples, sample => Assert.NotEqual(sample.TrueClass, sample.PredictedClass));
        // Every sample, right or wrong, may be ambiguous: total is the whole split, count caps the answer.
        Assert.Equal((30, 10), (ambiguous.Total, ambiguous.Samples.Count));
        var margins = ambiguous.Samples.Select(sample => sample.Margin).ToList();
        Assert.Equal(margins.Order(), margins);
        foreach (var sample in confident.Samples.Concat(ambiguous.Samples))
        {
            Assert.Equal(1.0, sample.Probabilities.Sum(), 4);
            var ranked = sample.Probabilities.OrderDescending().ToArray();
            Assert.Equal(ranked[0] - ranked[1], sample.Margin, 6);
            Assert.Equal(ranked[0], sample.Probabilities[sample.PredictedClass]);
            Assert.Equal(run.Evaluation!.ClassNames[sample.PredictedClass], sample.PredictedClassName);
        }
    }

    [Fact]
    public async Task Iris_mistakes_carry_the_features_as_stored_and_the_rows_the_preview_shows()
    {
        var run = await BrieflyTrainedIrisAsync();

        var mistakes = await MistakesAsync(run.Id, "kind=ambiguous&count=30");
        var preview = await (await _client.GetAsync($"/api/datasets/{run.DatasetId}/preview?split=test&count=30")).ReadAsAsync<DatasetPreview>();

        Assert.False(mistakes.Images);
        Assert.Equal(30, mistakes.Samples.Count);
        Assert.Equal(Enumerable.Range(0, 30), mistakes.Samples.Select(sample => sample.StoredRow).Order());
        foreach (var sample in mistakes.Samples)
        {
            Assert.Null(sample.Png);
            Assert.Equal(sample.Index, sample.StoredRow);
            Assert.Equal(preview.Samples[sample.StoredRow].Features, sample.Features);
            Assert.Equal(preview.Samples[sample.StoredRow].Label, sample.TrueClassName);
        }
    }

    [Fact]
    public async Task With_a_validation_fraction_train_and_validation_are_the_rows_training_split_between_them()
    {
        var dataset = await Workflow.ImportIrisAsync(_client);
        var model = await Workflow.CreateMlpAsync(_client);
        var run = await TrainAsync(dataset.Id, model.Id, epochs: 3, validationFraction: 0.2);

        var train = await MistakesAsync(run.Id, "split=train&kind=ambiguous&count=100");
        var validation = await MistakesAsync(run.Id, "split=validation&kind=ambiguous&count=100");
        var preview = await (await _client.GetAsync($"/api/datasets/{dataset.Id}/preview?split=train&count=64")).ReadAsAsync<DatasetPreview>();

        Assert.Equal((96, 24), (train.Total, validation.Total));
        Assert.Equal(("train", "train"), (validation.StoredSplit, train.StoredSplit));
        Assert.Equal(Enumerable.Range(0, 120), train.Samples.Concat(validation.Samples).Select(sample => sample.StoredRow).Order());
        // Stratified: each class keeps its share of the 40 training samples it has.
        Assert.All(validation.Samples.GroupBy(sample => sample.TrueClass), group => Assert.Equal(8, group.Count()));
        foreach (var sample in validation.Samples.Where(sample => sample.StoredRow < preview.Samples.Count))
        {
            Assert.Equal(preview.Samples[sample.StoredRow].Features, sample.Features);
            Assert.Equal(preview.Samples[sample.StoredRow].Label, sample.TrueClassName);
        }
        // The rows training validated on: the misclassified are what the epochs' validation accuracy missed, for the last
        // weights and for the best epoch's.
        var wrongLast = await MistakesAsync(run.Id, "split=validation&count=100");
        var wrongBest = await MistakesAsync(run.Id, "split=validation&which=best&count=100");
        Assert.Equal(run.Metrics[^1].ValidationAccuracy!.Value, (24.0 - wrongLast.Total) / 24, 9);
        Assert.Equal(run.Metrics.Single(metric => metric.Epoch == run.BestEpoch).ValidationAccuracy!.Value, (24.0 - wrongBest.Total) / 24, 9);
    }

    [Fact]
    public async Task Mnist_mistakes_are_28_by_28_pngs_of_the_digits_as_stored()
    {
        var import = await _client.PostAsync("/api/datasets", Workflow.CsvForm(
            await File.ReadAllBytesAsync(Path.Combine(AppContext.BaseDirectory, "samples", "mnist-10k.npz")), "mnist-10k.npz", ("scale", "1/255"), ("reshape", "1,28,28")));
        Assert.True(import.IsSuccessStatusCode, await import.Content.ReadAsStringAsync());
        var mnist = await import.ReadAsAsync<DatasetView>();
        var model = await _client.PostAsJsonAsync("/api/models", new
        {
            name = "mnist-mistakes-mlp",
            layers = new object[] { new { type = "flatten" }, new { type = "linear", outFeatures = 16 }, new { type = "relu" }, new { type = "linear", outFeatures = 10 } },
        });
        var run = await TrainAsync(mnist.Id, (await model.ReadAsAsync<Experiments.Domain.Models.ModelView>()).Id, epochs: 1, batchSize: 100);
        var confusion = run.Evaluation!.ConfusionMatrix;
        var (worstTrue, worstPredicted) = Enumerable.Range(0, 10).SelectMany(t => Enumerable.Range(0, 10).Where(p => p != t).Select(p => (t, p)))
            .MaxBy(cell => confusion[cell.t][cell.p]);

        var wrong = await MistakesAsync(run.Id, "kind=confidentWrong&count=16");
        var cell = await MistakesAsync(run.Id, $"true={worstTrue}&predicted={worstPredicted}&count=100");
        var preview = await (await _client.GetAsync($"/api/datasets/{mnist.Id}/preview?split=test&count=64")).ReadAsAsync<DatasetPreview>();

        Assert.Equal(confusion.SelectMany((row, t) => row.Where((_, p) => p != t)).Sum(), wrong.Total);
        Assert.Equal(confusion[worstTrue][worstPredicted], cell.Total);
        Assert.True(wrong.Images);
        Assert.Equal(16, wrong.Samples.Count);
        foreach (var sample in wrong.Samples.Concat(cell.Samples))
        {
            Assert.Null(sample.Features);
            AssertPng(sample.Png!, width: 28, height: 28);
            Assert.Equal(sample.Index, sample.StoredRow);
            if (sample.StoredRow < preview.Samples.Count)
            {
                Assert.Equal(preview.Samples[sample.StoredRow].Png, sample.Png);
            }
        }
    }

    [Fact]
    public async Task Bad_query_values_are_refused_with_400_naming_the_field_and_the_values_it_takes()
    {
        var run = await BrieflyTrainedIrisAsync();
        var mistakes = $"/api/runs/{run.Id}/mistakes";

        var cases = new (string Query, string Field, string Says)[]
        {
            ("kind=wrongs", "kind", "use wrong, confidentWrong or ambiguous. Did you mean 'wrong'?"),
            ("split=valid", "split", "use test, train or validation"),
            ("split=validation", "split", "holds no validation split out"),
            ("count=0", "count", "between 1 and 100"),
            ("count=101", "count", "between 1 and 100"),
            ("count=many", "count", "'many' cannot be read as"),
            ("true=rose", "true", "use a class name (setosa, versicolor, virginica) or an index from 0 to 2"),
            ("predicted=3", "predicted", "an index from 0 to 2"),
            ("predicted=-1", "predicted", "an index from 0 to 2"),
            ("which=worst", "which", "is not a choice of weights; use last"),
            ("Kind=wrong", "Kind", "did you mean 'kind'?"),
        };
        foreach (var (query, field, says) in cases)
        {
            var problem = await ProblemAssertions.ExpectProblemAsync(await _client.GetAsync($"{mistakes}?{query}"));
            Assert.True(problem.Errors.TryGetValue(field, out var messages), $"{query}: {string.Join("; ", problem.Errors.Keys)}");
            Assert.Contains(says, messages[0], StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task An_unknown_run_is_404_a_regression_run_400_and_a_run_without_weights_409()
    {
        using var idle = new ApiFactory { Trains = false };
        using var client = idle.CreateClient();
        var (datasetId, modelId) = await Workflow.ImportIrisAndMlpAsync(client);
        var untrained = await Workflow.CreateRunAsync(client, datasetId, modelId);
        var regression = await Workflow.ImportCsvAsync(client, Encoding.UTF8.GetBytes("a,b,y\n0.1,0.2,0.3\n0.4,0.5,0.9\n0.3,0.1,0.4\n0.7,0.2,0.9\n0.2,0.2,0.4\n"), "sums");
        Assert.Equal(DatasetTask.Regression, regression.Task);
        var line = await Workflow.CreateMlpAsync(client, classes: 1, name: "line");
        var created = await client.PostAsJsonAsync("/api/runs", new
        {
            datasetId = regression.Id, modelId = line.Id, optimizer = new { type = "adam" }, loss = new { type = "mse" }, epochs = 1,
        });
        Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        var regressionRun = await created.ReadAsAsync<RunView>();

        await ProblemAssertions.ExpectProblemAsync(await client.GetAsync($"/api/runs/{Guid.NewGuid()}/mistakes"), HttpStatusCode.NotFound);
        var refused = await ProblemAssertions.ExpectProblemAsync(await client.GetAsync($"/api/runs/{regressionRun.Id}/mistakes"));
        Assert.Contains("mistakes need class labels", refused.Errors["id"][0], StringComparison.Ordinal);
        var noWeights = await ProblemAssertions.ExpectProblemAsync(await client.GetAsync($"/api/runs/{untrained.Id}/mistakes"), HttpStatusCode.Conflict);
        Assert.Equal("The run has no trained weights yet.", noWeights.Title);
    }

    /// <summary>Three epochs of the Iris MLP: good enough to be mostly right, brief enough to make mistakes.</summary>
    private async Task<RunView> BrieflyTrainedIrisAsync()
    {
        var dataset = await Workflow.ImportIrisAsync(_client);
        var model = await Workflow.CreateMlpAsync(_client);
        return await TrainAsync(dataset.Id, model.Id, epochs: 3);
    }

    private async Task<RunView> TrainAsync(Guid datasetId, Guid modelId, int epochs, int batchSize = 16, double? validationFraction = null)
    {
        var created = await _client.PostAsJsonAsync("/api/runs", new
        {
            datasetId, modelId, optimizer = new { type = "adam", lr = 0.01 }, loss = new { type = "crossEntropy" }, epochs, batchSize, seed = 7, validationFraction,
        });
        Assert.True(created.StatusCode == HttpStatusCode.Accepted, await created.Content.ReadAsStringAsync());
        var run = await Workflow.WaitUntilFinishedAsync(_client, (await created.ReadAsAsync<RunView>()).Id);
        Assert.True(run.Status == RunStatus.Succeeded, run.Error);
        return run;
    }

    private async Task<RunMistakes> MistakesAsync(Guid runId, string query)
    {
        var response = await _client.GetAsync($"/api/runs/{runId}/mistakes?{query}");
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{query}: {await response.Content.ReadAsStringAsync()}");
        return await response.ReadAsAsync<RunMistakes>();
    }

    /// <summary>A PNG data URL: the signature, an IHDR of the size, 8-bit grey, and image data that inflates to its rows.</summary>
    private static void AssertPng(string dataUrl, int width, int height)
    {
        const string prefix = "data:image/png;base64,";
        Assert.StartsWith(prefix, dataUrl, StringComparison.Ordinal);
        var png = Convert.FromBase64String(dataUrl[prefix.Length..]);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0d, 0x0a, 0x1a, 0x0a }, png[..8]);
        Assert.Equal("IHDR", Encoding.ASCII.GetString(png, 12, 4));
        Assert.Equal((width, height), (BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20))));
        Assert.Equal((8, 0), (png[24], png[25]));
        var idatLength = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(33));
        Assert.Equal("IDAT", Encoding.ASCII.GetString(png, 37, 4));
        using var inflated = new MemoryStream();
        using (var zlib = new ZLibStream(new MemoryStream(png, 41, idatLength), CompressionMode.Decompress))
        {
            zlib.CopyTo(inflated);
        }
        Assert.Equal(height * (1 + width), inflated.Length);
    }

    private static string Describe(int[][] confusion) => string.Join(" / ", confusion.Select(row => string.Join(" ", row)));
}
