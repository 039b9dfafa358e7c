using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Experiments.Domain.Datasets;
using Experiments.Domain.Runs;
using Experiments.Tests.Support;
using Microsoft.AspNetCore.Mvc;

namespace Experiments.Tests.Api;

/// <summary>Testing, prediction and export of a trained run.</summary>
[Collection(OneAtATime.Name)]
public sealed class TrainedModelTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task Predict_samples_nested_deeper_than_the_json_depth_limit_are_refused_with_400_before_any_recursion()
    {
        // 100,000 nested arrays: System.Text.Json's MaxDepth (64) refuses the body, so Flatten never walks more than 64 levels.
        var body = "{\"samples\":" + new string('[', 100_000) + new string(']', 100_000) + "}";

        var response = await _client.PostAsync($"/api/runs/{Guid.NewGuid()}/predict", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task A_finished_run_has_a_confusion_matrix_and_per_class_metrics()
    {
        var run = await TrainedIrisAsync();

        var evaluation = run.Evaluation!;
        Assert.Equal("test", evaluation.Split);
        Assert.Equal(["setosa", "versicolor", "virginica"], evaluation.ClassNames);
        Assert.Equal([10, 10, 10], evaluation.ConfusionMatrix.Select(row => row.Sum()));
        Assert.Equal(run.Metrics[^1].TestAccuracy!.Value, evaluation.Accuracy!.Value, 6);
        Assert.All(evaluation.PerClass, metrics => Assert.InRange(metrics.F1, 0.5, 1.0));
    }

    [Fact]
    public async Task Evaluate_scores_the_trained_model_on_a_dataset_of_the_same_shape()
    {
        var run = await TrainedIrisAsync();

        var response = await _client.PostAsJsonAsync($"/api/runs/{run.Id}/evaluate", new { datasetId = run.DatasetId, split = "all" });
        var evaluation = await response.ReadAsAsync<RunEvaluation>();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(150, evaluation.Samples);
        Assert.True(evaluation.Accuracy > 0.8);

        var other = await Workflow.ImportCsvAsync(_client, SyntheticData.BlobsCsv(rows: 60, features: 5, seed: 3), "five-features");
        var refused = await _client.PostAsJsonAsync($"/api/runs/{run.Id}/evaluate", new { datasetId = other.Id });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("[5]", (await refused.ReadAsAsync<ValidationProblemDetails>()).Errors["datasetId"][0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Predict_answers_class_names_and_probabilities_for_raw_samples()
    {
        var run = await TrainedIrisAsync();

        var response = await _client.PostAsJsonAsync($"/api/runs/{run.Id}/predict", new
        {
            samples = new object[] { new[] { 5.1, 3.5, 1.4, 0.2 }, new[] { new[] { 6.7, 3.0 }, new[] { 5.2, 2.3 } } },
        });
        var predictions = (await response.ReadAsAsync<PredictResponse>()).Predictions;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("setosa", predictions[0].ClassName);
        Assert.Equal("virginica", predictions[1].ClassName);
        Assert.All(predictions, prediction => Assert.Equal(1.0, prediction.Probabilities!.Sum(), 3));

        var wrongSize = await _client.PostAsJsonAsync($"/api/runs/{run.Id}/predict", new { samples = new[] { new[] { 1.0, 2.0 } } });
        Assert.Equal(HttpStatusCode.BadRequest, wrongSize.StatusCode);
        Assert.Contains("has 2 numbers", (await wrongSize.ReadAsAsync<ValidationProblemDetails>()).Errors["samples[0]"][0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Regression_predict_refuses_values_beyond_float32_and_outputs_that_overflow_instead_of_answering_NaN()
    {
        var run = await TrainedIrisAsync();

        var beyond = await _client.PostAsync($"/api/runs/{run.Id}/predict", new StringContent(
            """{"samples": [[5.1, 3.5, 1.4, 0.2], [1e39, 3.5, 1.4, 0.2]]}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, beyond.StatusCode);
        Assert.Contains("must fit in float32", (await beyond.ReadAsAsync<ValidationProblemDetails>()).Errors["samples[1]"][0], StringComparison.Ordinal);

        var overflowing = await _client.PostAsync($"/api/runs/{run.Id}/predict", new StringContent(
            """{"samples": [[5.1, 3.5, 1.4, 0.2], [3e38, -3e38, 3e38, -3e38]]}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, overflowing.StatusCode);
        Assert.Contains("overflow float32", (await overflowing.ReadAsAsync<ValidationProblemDetails>()).Errors["samples[1]"][0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Weights_download_as_torchsharp_pytorch_and_safetensors()
    {
        var run = await TrainedIrisAsync();

        var torchSharp = await _client.GetAsync($"/api/runs/{run.Id}/weights");
        var pytorch = await _client.GetByteArrayAsync($"/api/runs/{run.Id}/weights?format=pytorch");
        var safetensors = await _client.GetByteArrayAsync($"/api/runs/{run.Id}/weights?format=safetensors");

        Assert.Equal(HttpStatusCode.OK, torchSharp.StatusCode);
        Assert.EndsWith(".bin", torchSharp.Content.Headers.ContentDisposition!.FileName!.Trim('"'), StringComparison.Ordinal);
        // torch.save writes a zip archive.
        Assert.Equal("PK"u8.ToArray(), pytorch[..2]);
        // safetensors: an 8-byte little-endian header length, then a JSON header naming every tensor.
        var headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(safetensors);
        using var header = JsonDocument.Parse(Encoding.UTF8.GetString(safetensors, 8, headerLength));
        var names = header.RootElement.EnumerateObject().Select(p => p.Name).Where(n => n != "__metadata__").Order().ToList();
        Assert.Equal(["0.bias", "0.weight", "2.bias", "2.weight"], names);
        Assert.Equal([16, 4], header.RootElement.GetProperty("0.weight").GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()));

        var unknown = await _client.GetAsync($"/api/runs/{run.Id}/weights?format=tflite");
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Contains("onnx or card", (await unknown.ReadAsAsync<ValidationProblemDetails>()).Errors["format"][0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_model_trained_on_standardized_data_reproduces_predict_from_every_export_with_the_published_preprocessing()
    {
        var response = await _client.PostAsync("/api/datasets", Workflow.CsvForm(await File.ReadAllBytesAsync(Workflow.IrisPath), "iris.csv",
            ("name", "iris-standardized"), ("standardize", "true")));
        var dataset = await response.ReadAsAsync<DatasetView>();
        // The fitted numbers are part of the dataset's description.
        Assert.Equal(4, dataset.Preprocessing.Mean!.Length);
        Assert.InRange(dataset.Preprocessing.Mean[2], 3.0, 4.5); // petal length, about 3.76 over all of Iris
        Assert.InRange(dataset.Preprocessing.Std![2], 1.4, 2.1);
        var model = await Workflow.CreateMlpAsync(_client, name: "iris-mlp-standardized");
        var run = await Workflow.WaitUntilFinishedAsync(_client, (await Workflow.CreateRunAsync(_client, dataset.Id, model.Id, epochs: 15, seed: 5)).Id);
        Assert.Equal(RunStatus.Succeeded, run.Status);

        // Every fifth Iris row, as the file holds it.
        var rows = (await File.ReadAllLinesAsync(Workflow.IrisPath)).Skip(1).Where((_, index) => index % 5 == 0)
            .Select(line => line.Split(',')[..4].Select(v => float.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray()).ToArray();
        Assert.Equal(30, rows.Length);
        var predicted = (await (await _client.PostAsJsonAsync($"/api/runs/{run.Id}/predict", new { samples = rows })).ReadAsAsync<PredictResponse>()).Predictions;

        // safetensors: the preprocessing and the classes from __metadata__, the weights by key; the forward pass by hand.
        var safetensors = await _client.GetByteArrayAsync($"/api/runs/{run.Id}/weights?format=safetensors");
        var (weights, metadata) = ReadSafetensors(safetensors);
        Assert.Equal(dataset.ClassNames, JsonSerializer.Deserialize<string[]>(metadata["classNames"]));
        using var published = JsonDocument.Parse(metadata["preprocessing"]);
        var mean = published.RootElement.GetProperty("mean").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        var std = published.RootElement.GetProperty("std").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        Assert.Equal(dataset.Preprocessing.Mean, mean);
        AssertSameProbabilities(predicted, rows.Select(row => Mlp(weights, row, mean, std)).ToArray(), 1e-5, "safetensors");

        // The .pt file, through the strict reader: the same weights.
        var (pt, _) = TorchFileReader.ReadStateDict(await _client.GetByteArrayAsync($"/api/runs/{run.Id}/weights?format=pytorch"));
        var ptWeights = pt.ToDictionary(entry => entry.Key, entry => entry.Tensor.Floats());
        AssertSameProbabilities(predicted, rows.Select(row => Mlp(ptWeights, row, mean, std)).ToArray(), 1e-5, "pytorch");

        // ONNX takes the raw rows: the preprocessing is in the graph.
        var onnx = await _client.GetByteArrayAsync($"/api/runs/{run.Id}/weights?format=onnx");
        var (probabilities, shape, _) = OnnxRunner.Run(onnx, rows.SelectMany(row => row).ToArray(), [rows.Length, 4]);
        Assert.Equal([30L, 3], shape);
        AssertSameProbabilities(predicted, probabilities.Chunk(3).ToArray(), 1e-4, "onnx");

        var card = await _client.GetAsync($"/api/runs/{run.Id}/weights?format=card");
        Assert.Equal("text/markdown", card.Content.Headers.ContentType!.MediaType);
        Assert.EndsWith(".md", card.Content.Headers.ContentDisposition!.FileName!.Trim('"'), StringComparison.Ordinal);
        var markdown = await card.Content.ReadAsStringAsync();
        Assert.Contains($"| 2 | {mean[2].ToString("R", System.Globalization.CultureInfo.InvariantCulture)} | {std[2].ToString("R", System.Globalization.CultureInfo.InvariantCulture)} |", markdown, StringComparison.Ordinal);
        Assert.Contains("| 2 | virginica |", markdown, StringComparison.Ordinal);
        Assert.Contains("| `0.weight` | [16, 4] | float32 |", markdown, StringComparison.Ordinal);
    }

    /// <summary>The MLP of <see cref="Workflow.CreateMlpAsync"/> on one raw row: standardize, linear, ReLU, linear, softmax.</summary>
    private static float[] Mlp(Dictionary<string, float[]> weights, float[] raw, float[] mean, float[] std)
    {
        var x = raw.Select((value, j) => (value - mean[j]) / std[j]).ToArray();
        var hidden = Linear(weights["0.weight"], weights["0.bias"], x).Select(value => Math.Max(value, 0f)).ToArray();
        var logits = Linear(weights["2.weight"], weights["2.bias"], hidden);
        var exponentials = logits.Select(logit => Math.Exp(logit - logits.Max())).ToArray();
        return exponentials.Select(e => (float)(e / exponentials.Sum())).ToArray();
    }

    private static float[] Linear(float[] weight, float[] bias, float[] x) =>
        bias.Select((b, o) => b + x.Select((value, i) => weight[o * x.Length + i] * value).Sum()).ToArray();

    private static void AssertSameProbabilities(IReadOnlyList<Prediction> predicted, float[][] computed, double tolerance, string format)
    {
        Assert.Equal(predicted.Count, computed.Length);
        for (var i = 0; i < computed.Length; i++)
        {
            Assert.Equal(predicted[i].Class, Array.IndexOf(computed[i], computed[i].Max()));
            var difference = predicted[i].Probabilities!.Zip(computed[i], (a, b) => Math.Abs(a - b)).Max();
            Assert.True(difference <= tolerance, $"{format}, sample {i}: the probabilities differ from /predict's by {difference:G3}.");
        }
    }

    /// <summary>A safetensors file's float32 tensors by name and its __metadata__, read from the format.</summary>
    private static (Dictionary<string, float[]> Tensors, Dictionary<string, string> Metadata) ReadSafetensors(byte[] file)
    {
        var headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(file);
        using var header = JsonDocument.Parse(Encoding.UTF8.GetString(file, 8, headerLength));
        var metadata = header.RootElement.GetProperty("__metadata__").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
        var tensors = new Dictionary<string, float[]>();
        foreach (var entry in header.RootElement.EnumerateObject().Where(p => p.Name != "__metadata__"))
        {
            Assert.Equal("F32", entry.Value.GetProperty("dtype").GetString());
            var offsets = entry.Value.GetProperty("data_offsets").EnumerateArray().Select(o => o.GetInt32()).ToArray();
            var values = new float[(offsets[1] - offsets[0]) / 4];
            Buffer.BlockCopy(file, 8 + headerLength + offsets[0], values, 0, offsets[1] - offsets[0]);
            tensors[entry.Name] = values;
        }
        return (tensors, metadata);
    }

    private async Task<RunView> TrainedIrisAsync()
    {
        var dataset = await Workflow.ImportIrisAsync(_client);
        var model = await Workflow.CreateMlpAsync(_client);
        var created = await Workflow.CreateRunAsync(_client, dataset.Id, model.Id, epochs: 40, seed: 3);
        var run = await Workflow.WaitUntilFinishedAsync(_client, created.Id);
        Assert.Equal(RunStatus.Succeeded, run.Status);
        return run;
    }
}
