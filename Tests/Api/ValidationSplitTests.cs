using System.Net;
using System.Net.Http.Json;
using Experiments.Domain.Runs;
using Experiments.Tests.Support;
using Microsoft.AspNetCore.Mvc;

namespace Experiments.Tests.Api;

/// <summary>A run that holds a validation split out selects on it; its best weights are served by <c>which=best</c>.</summary>
[Collection(OneAtATime.Name)]
public sealed class ValidationSplitTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task The_best_epoch_is_chosen_on_validation_and_its_weights_are_served_with_which_best()
    {
        var (datasetId, modelId) = await Workflow.ImportIrisAndMlpAsync(_client);
        var created = await CreateAsync(new { datasetId, modelId, optimizer = new { type = "sgd", lr = 0.05 }, loss = CrossEntropy, epochs = 15, batchSize = 8, seed = 4, validationFraction = 0.2 });
        Assert.True(created.StatusCode == HttpStatusCode.Accepted, await created.Content.ReadAsStringAsync());
        var run = await Workflow.WaitUntilFinishedAsync(_client, (await created.ReadAsAsync<RunView>()).Id);

        Assert.Equal(RunStatus.Succeeded, run.Status);
        Assert.Equal(0.2, run.Spec.ValidationFraction);
        Assert.All(run.Metrics, metric => Assert.NotNull(metric.ValidationAccuracy));
        var best = run.Metrics.Aggregate(EpochSummary.None, (summary, metric) => summary.Apply(metric));
        Assert.Equal(best.BestEpoch, run.BestEpoch);
        var bestMetric = run.Metrics.Single(metric => metric.Epoch == run.BestEpoch);
        Assert.Equal(bestMetric.ValidationAccuracy, run.BestValidationAccuracy);
        Assert.Equal(bestMetric.TestAccuracy, run.BestTestAccuracy);
        Assert.Equal(30, run.Evaluation!.Samples);

        var series = await (await _client.GetAsync($"/api/runs/{run.Id}/metrics")).ReadAsAsync<RunMetricSeries>();
        Assert.Equal(run.Metrics.Select(metric => metric.ValidationAccuracy), series.ValidationAccuracy);

        // Iris has 120 training rows; 24 are held out, 8 of each class.
        var validation = await EvaluateAsync(run, "validation", "best");
        Assert.Equal(24, validation.Samples);
        Assert.Equal(bestMetric.ValidationAccuracy!.Value, validation.Accuracy!.Value, 6);
        Assert.All(validation.ConfusionMatrix, row => Assert.Equal(8, row.Sum()));
        var testOfBest = await EvaluateAsync(run, "test", "best");
        Assert.Equal(bestMetric.TestAccuracy!.Value, testOfBest.Accuracy!.Value, 6);
        var testOfLast = await EvaluateAsync(run, "test", "last");
        Assert.Equal(run.Evaluation.Accuracy!.Value, testOfLast.Accuracy!.Value, 6);

        var bestWeights = await _client.GetAsync($"/api/runs/{run.Id}/weights?which=best");
        Assert.Equal(HttpStatusCode.OK, bestWeights.StatusCode);
        Assert.Contains("-best.bin", bestWeights.Content.Headers.ContentDisposition!.FileName, StringComparison.Ordinal);
        var predicted = await _client.PostAsJsonAsync($"/api/runs/{run.Id}/predict?which=best", new { samples = new[] { new[] { 5.1, 3.5, 1.4, 0.2 } } });
        Assert.Equal(HttpStatusCode.OK, predicted.StatusCode);
    }

    [Fact]
    public async Task Bad_validation_fractions_and_weight_choices_are_refused_naming_the_field()
    {
        var (datasetId, modelId) = await Workflow.ImportIrisAndMlpAsync(_client);
        foreach (var fraction in new[] { 0.0, 1.0, -0.1, 1.5 })
        {
            var refused = await CreateAsync(new { datasetId, modelId, optimizer = new { type = "adam" }, loss = CrossEntropy, epochs = 1, validationFraction = fraction });
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Contains("validationFraction", (await refused.ReadAsAsync<ValidationProblemDetails>()).Errors.Keys);
        }
        // 0.001 of 120 training rows rounds to none.
        var nothingHeldOut = await CreateAsync(new { datasetId, modelId, optimizer = new { type = "adam" }, loss = CrossEntropy, epochs = 1, validationFraction = 0.001 });
        Assert.Equal(HttpStatusCode.BadRequest, nothingHeldOut.StatusCode);
        var nothingBody = await nothingHeldOut.Content.ReadAsStringAsync();
        Assert.True(nothingBody.Contains("no validation samples", StringComparison.Ordinal), nothingBody);

        var run = await Workflow.WaitUntilFinishedAsync(_client, (await Workflow.CreateRunAsync(_client, datasetId, modelId, epochs: 2)).Id);
        var which = await _client.GetAsync($"/api/runs/{run.Id}/weights?which=first");
        Assert.Equal(HttpStatusCode.BadRequest, which.StatusCode);
        Assert.Contains("which", (await which.ReadAsAsync<ValidationProblemDetails>()).Errors.Keys);
        var noValidation = await _client.PostAsJsonAsync($"/api/runs/{run.Id}/evaluate", new { datasetId, split = "validation" });
        Assert.Equal(HttpStatusCode.BadRequest, noValidation.StatusCode);
        Assert.Contains("validationFraction", (await noValidation.ReadAsAsync<ValidationProblemDetails>()).Errors["split"][0], StringComparison.Ordinal);
        // Without a validation split the best epoch is chosen on test, and which=best serves it.
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync($"/api/runs/{run.Id}/weights?which=best")).StatusCode);
    }

    private Task<HttpResponseMessage> CreateAsync(object spec) => _client.PostAsJsonAsync("/api/runs", spec);

    private static readonly object CrossEntropy = new { type = "crossEntropy" };

    private async Task<RunEvaluation> EvaluateAsync(RunView run, string split, string which)
    {
        var response = await _client.PostAsJsonAsync($"/api/runs/{run.Id}/evaluate?which={which}", new { datasetId = run.DatasetId, split });
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.ReadAsAsync<RunEvaluation>();
    }
}
