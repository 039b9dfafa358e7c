using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using Experiments.Domain.Datasets;
using Experiments.Domain.Runs;
using Experiments.Tests.Support;

namespace Experiments.Tests.Api;

/// <summary>A regression dataset trains end to end over HTTP: MSE, MAE and R² instead of accuracy, values from predict.</summary>
[Collection(OneAtATime.Name)]
public sealed class RegressionWorkflowTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task A_regression_run_records_errors_and_predicts_values()
    {
        // y = 2·a − b + 0.5, with a little noise.
        var random = new Random(4);
        var csv = new StringBuilder("a,b,y\n");
        for (var row = 0; row < 400; row++)
        {
            var a = random.NextDouble() * 2 - 1;
            var b = random.NextDouble() * 2 - 1;
            csv.Append(CultureInfo.InvariantCulture, $"{a:F4},{b:F4},{2 * a - b + 0.5 + (random.NextDouble() - 0.5) * 0.05:F4}\n");
        }
        var import = await _client.PostAsync("/api/datasets", Workflow.CsvForm(Encoding.UTF8.GetBytes(csv.ToString()), "line.csv", ("task", "regression")));
        var dataset = await import.ReadAsAsync<DatasetView>();
        Assert.Equal(DatasetTask.Regression, dataset.Task);
        var model = await (await _client.PostAsJsonAsync("/api/models", new
        {
            name = "line", layers = new object[] { new { type = "linear", outFeatures = 16 }, new { type = "tanh" }, new { type = "linear", outFeatures = 1 } },
        })).ReadAsAsync<Experiments.Domain.Models.ModelView>();

        var created = await _client.PostAsJsonAsync("/api/runs", new
        {
            datasetId = dataset.Id, modelId = model.Id, optimizer = new { type = "adam", lr = 0.02 }, loss = new { type = "mse" }, epochs = 40, batchSize = 16, seed = 1,
        });
        Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        var run = await Workflow.WaitUntilFinishedAsync(_client, (await created.ReadAsAsync<RunView>()).Id);

        Assert.True(run.Status == RunStatus.Succeeded, $"{run.Status}: {run.Error}");
        Assert.All(run.Metrics, metric => Assert.Null(metric.TestAccuracy));
        Assert.True(run.Metrics[^1].TestR2 > 0.95, $"R² {run.Metrics[^1].TestR2}");
        Assert.True(run.Evaluation!.Mse < 0.05, $"MSE {run.Evaluation.Mse}");

        var predictions = (await (await _client.PostAsJsonAsync($"/api/runs/{run.Id}/predict", new { samples = new[] { new[] { 0.5, 0.25 } } }))
            .ReadAsAsync<PredictResponse>()).Predictions;
        Assert.Null(predictions[0].Class);
        Assert.InRange(predictions[0].Values![0], 1.15, 1.35);
    }
}
