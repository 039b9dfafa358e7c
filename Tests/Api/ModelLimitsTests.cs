using System.Net;
using System.Net.Http.Json;
using System.Text;
using Experiments.Api.Persistence;
using Experiments.Domain.Models;
using Experiments.Tests.Support;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Experiments.Tests.Api;

/// <summary>
/// Models too large to count, to hold or to train, and numbers that are not finite, are refused with 400 naming the
/// field (never a 500, never a row saved); concurrent saves under one name each get their own version.
/// </summary>
[Collection(OneAtATime.Name)]
public sealed class ModelLimitsTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Theory]
    [InlineData("""[{"type": "linear", "outFeatures": 2147483647}, {"type": "linear", "outFeatures": 2147483647}]""", "[4]", "layers[1]", "(linear) is too large")]
    [InlineData("""[{"type": "conv2d", "outChannels": 8, "kernelSize": 5, "padding": 2147483647}]""", "[1, 28, 28]", "layers[0]", "(conv2d) is too large")]
    [InlineData("""[{"type": "lstm", "hiddenSize": 1073741825, "bidirectional": true}]""", "[10, 4]", "layers[0]", "(lstm) is too large")]
    public async Task Regression_a_model_too_large_to_count_is_refused_by_its_layer_and_nothing_is_saved(string layers, string inputShape, string field, string expected)
    {
        var modelsBefore = await CountModelsAsync();

        var validated = await ProblemAssertions.ExpectProblemAsync(await PostAsync("/api/models/validate", $$"""{"layers": {{layers}}, "inputShape": {{inputShape}}}"""));
        var created = await ProblemAssertions.ExpectProblemAsync(await PostAsync("/api/models", $$"""{"name": "huge", "layers": {{layers}}, "inputShape": {{inputShape}}}"""));

        Assert.Contains(expected, Assert.Single(validated.Errors[field]), StringComparison.Ordinal);
        Assert.Contains(expected, Assert.Single(created.Errors[field]), StringComparison.Ordinal);
        Assert.Equal(modelsBefore, await CountModelsAsync());
    }

    [Fact]
    public async Task A_model_over_the_parameter_limit_is_refused_when_validated_saved_with_a_shape_or_trained()
    {
        const string layers = """[{"type": "linear", "outFeatures": 2147483647}, {"type": "linear", "outFeatures": 3}]""";
        var modelsBefore = await CountModelsAsync();

        var validated = await ProblemAssertions.ExpectProblemAsync(await PostAsync("/api/models/validate", $$"""{"layers": {{layers}}, "inputShape": [4]}"""));
        var created = await ProblemAssertions.ExpectProblemAsync(await PostAsync("/api/models", $$"""{"name": "huge", "layers": {{layers}}, "inputShape": [4]}"""));

        const string limit = "parameters, more than the limit of 1,000,000,000 (setting Experiments:MaxModelParameters)";
        Assert.Contains(limit, Assert.Single(validated.Errors["layers"]), StringComparison.Ordinal);
        Assert.Contains(limit, Assert.Single(created.Errors["layers"]), StringComparison.Ordinal);
        Assert.Equal(modelsBefore, await CountModelsAsync());

        // Saved without a shape, it is counted when a run would train it, and the run is refused.
        var dataset = await Workflow.ImportIrisAsync(_client);
        var unshaped = await (await PostAsync("/api/models", $$"""{"name": "huge", "layers": {{layers}}}""")).ReadAsAsync<ModelView>();
        var run = await ProblemAssertions.ExpectProblemAsync(await PostRunAsync(dataset.Id, unshaped.Id, batchSize: 16));
        Assert.Contains("has 17,179,869,179 parameters, more than the limit of 1,000,000,000 (setting Experiments:MaxModelParameters)", run.Errors["modelId"][0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_run_whose_training_memory_exceeds_the_limit_is_refused_with_the_estimate_and_the_setting()
    {
        var dataset = await Workflow.ImportIrisAsync(_client);
        var wide = await (await PostAsync("/api/models", """{"name": "wide", "layers": [{"type": "linear", "outFeatures": 100000000}, {"type": "linear", "outFeatures": 3}]}"""))
            .ReadAsAsync<ModelView>();
        var runsBefore = await CountRunsAsync();

        // 800 million parameters; a batch of 1000 keeps 100 million activations per sample and their gradients: about 760 GiB.
        var problem = await ProblemAssertions.ExpectProblemAsync(await PostRunAsync(dataset.Id, wide.Id, batchSize: 1000));

        var message = Assert.Single(problem.Errors.SelectMany(error => error.Value));
        Assert.Contains("training model 'wide' v1 at batch size 1000 needs an estimated", message, StringComparison.Ordinal);
        Assert.Contains("Experiments:MaxTrainingMemoryBytes", message, StringComparison.Ordinal);
        Assert.Equal(runsBefore, await CountRunsAsync());
    }

    [Theory]
    [InlineData("\"Infinity\"")]
    [InlineData("\"-Infinity\"")]
    [InlineData("\"NaN\"")]
    [InlineData("-1")]
    [InlineData("0")]
    [InlineData("1e400")]
    public async Task Regression_a_gradient_clip_norm_that_is_not_a_finite_positive_number_is_refused(string clip)
    {
        var (datasetId, modelId) = await ValidInputsAsync();
        var runsBefore = await CountRunsAsync();

        var problem = await ProblemAssertions.ExpectProblemAsync(await PostAsync("/api/runs",
            $$"""{"datasetId": "{{datasetId}}", "modelId": "{{modelId}}", "optimizer": {"type": "sgd"}, "loss": {"type": "crossEntropy"}, "epochs": 1, "gradientClipNorm": {{clip}}}"""));

        Assert.Contains("gradientClipNorm", problem.Errors.Keys);
        Assert.Equal(runsBefore, await CountRunsAsync());
    }

    [Theory]
    [InlineData("\"Infinity\"")]
    [InlineData("\"NaN\"")]
    [InlineData("1e400")]
    public async Task A_hyperparameter_that_is_not_finite_is_refused_by_name(string lr)
    {
        var (datasetId, modelId) = await ValidInputsAsync();

        var problem = await ProblemAssertions.ExpectProblemAsync(await PostAsync("/api/runs",
            $$"""{"datasetId": "{{datasetId}}", "modelId": "{{modelId}}", "optimizer": {"type": "adam", "lr": {{lr}}}, "loss": {"type": "crossEntropy"}, "epochs": 1, "targetAccuracy": "Infinity"}"""));

        Assert.Contains("optimizer.lr", problem.Errors.Keys);
        Assert.Contains("targetAccuracy", problem.Errors.Keys);
    }

    [Fact]
    public async Task Regression_ten_concurrent_saves_under_one_name_get_versions_one_to_ten()
    {
        var responses = await Task.WhenAll(Enumerable.Range(1, 10).Select(width => _client.PostAsJsonAsync("/api/models", new
        {
            name = "raced",
            layers = new object[] { new { type = "linear", outFeatures = width } },
        })));

        foreach (var response in responses)
        {
            Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
        var versions = await Task.WhenAll(responses.Select(response => response.ReadAsAsync<ModelView>()));
        Assert.Equal(Enumerable.Range(1, 10), versions.Select(model => model.Version).Order());
    }

    private async Task<(Guid DatasetId, Guid ModelId)> ValidInputsAsync()
    {
        var dataset = await Workflow.ImportIrisAsync(_client);
        var model = await Workflow.CreateMlpAsync(_client);
        return (dataset.Id, model.Id);
    }

    private Task<HttpResponseMessage> PostRunAsync(Guid datasetId, Guid modelId, int batchSize) => _client.PostAsJsonAsync("/api/runs", new
    {
        datasetId, modelId, optimizer = new { type = "adam" }, loss = new { type = "crossEntropy" }, epochs = 1, batchSize,
    });

    private Task<HttpResponseMessage> PostAsync(string path, string json) =>
        _client.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

    private async Task<int> CountModelsAsync()
    {
        await using var scope = factory.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ExperimentsDbContext>().Models.CountAsync();
    }

    private async Task<int> CountRunsAsync()
    {
        await using var scope = factory.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ExperimentsDbContext>().Runs.CountAsync();
    }
}
