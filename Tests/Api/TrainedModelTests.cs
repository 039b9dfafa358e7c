using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
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
        Assert.Contains("safetensors or onnx", (await unknown.ReadAsAsync<ValidationProblemDetails>()).Errors["format"][0], StringComparison.Ordinal);
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
