using System.Net;
using System.Net.Http.Json;
using System.Text;
using Experiments.Api.Persistence;
using Experiments.Tests.Support;
using static Experiments.Tests.Support.ProblemAssertions;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Experiments.Tests.Api;

/// <summary>Every refused request answers 400 problem details naming the field, and stores nothing.</summary>
[Collection(OneAtATime.Name)]
public sealed class BadInputTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task A_run_without_its_required_fields_names_each_missing_field()
    {
        var problem = await ExpectProblemAsync(await _client.PostAsJsonAsync("/api/runs", new { }));

        Assert.Contains("datasetId", problem.Errors.Keys);
        Assert.Contains("modelId", problem.Errors.Keys);
        Assert.Contains("optimizer", problem.Errors.Keys);
        Assert.Contains("loss", problem.Errors.Keys);
        Assert.Contains("epochs", problem.Errors.Keys);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    public async Task Epochs_below_one_are_refused(int epochs)
    {
        var (datasetId, modelId) = await Workflow.ImportIrisAndMlpAsync(_client);
        var problem = await ExpectProblemAsync(await _client.PostAsJsonAsync("/api/runs", new
        {
            datasetId, modelId, optimizer = new { type = "sgd" }, loss = new { type = "crossEntropy" }, epochs,
        }));

        Assert.Contains($"got {epochs}", Assert.Single(problem.Errors["epochs"]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_layer_type_is_refused_with_the_known_types_listed()
    {
        var problem = await ExpectProblemAsync(await _client.PostAsJsonAsync("/api/models", new
        {
            name = "bad", layers = new object[] { new { type = "linear", outFeatures = 4 }, new { type = "conv9d" } },
        }));

        var message = Assert.Single(problem.Errors["layers[1].type"]);
        Assert.Contains("'conv9d' is not a known layer type", message, StringComparison.Ordinal);
        Assert.Contains("linear", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Adam_with_momentum_is_told_that_its_momentum_terms_are_betas()
    {
        var (datasetId, modelId) = await Workflow.ImportIrisAndMlpAsync(_client);
        var problem = await ExpectProblemAsync(await _client.PostAsJsonAsync("/api/runs", new
        {
            datasetId, modelId, optimizer = new { type = "adam", momentum = 0.9 }, loss = new { type = "crossEntropy" }, epochs = 1,
        }));

        var message = Assert.Single(problem.Errors["optimizer.momentum"]);
        Assert.Contains("adam has no 'momentum'", message, StringComparison.Ordinal);
        Assert.Contains("betas", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_model_whose_output_does_not_match_the_class_count_is_refused_with_the_fix()
    {
        var (datasetId, _) = await Workflow.ImportIrisAndMlpAsync(_client);
        var wrongWidth = await Workflow.CreateMlpAsync(_client, classes: 5, name: "five-outputs");
        var problem = await ExpectProblemAsync(await _client.PostAsJsonAsync("/api/runs", new
        {
            datasetId, modelId = wrongWidth.Id, optimizer = new { type = "sgd" }, loss = new { type = "crossEntropy" }, epochs = 1,
        }));

        Assert.Contains("outFeatures 3", Assert.Single(problem.Errors["modelId"]), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"type": "sgd"}""", """{"type": "mse"}""", null, "loss.type", "mse compares numbers, but dataset 'iris' has class labels (3 classes). Use crossEntropy, or set \"oneHot\": true")]
    [InlineData("""{"type": "sgd"}""", """{"type": "nll"}""", null, "loss.type", "nll takes log-probabilities, but model 'iris-mlp' v1 ends with linear (layers[2]).")]
    [InlineData("""{"type": "sgd"}""", """{"type": "crossEntropy", "weight": [1, 2]}""", null, "loss.weight", "needs 3 numbers (one per class); got 2.")]
    [InlineData("""{"type": "sgd", "nesterov": true}""", """{"type": "crossEntropy"}""", null, "optimizer.nesterov", "needs momentum > 0 and dampening 0")]
    [InlineData("""{"type": "adam"}""", """{"type": "crossEntropy"}""", """{"type": "stepLR", "gamma": 0.5}""", "scheduler.stepSize", "is required by stepLR")]
    [InlineData("""{"type": "adam"}""", """{"type": "crossEntropy"}""", """{"type": "reduceLROnPlateau", "mode": "max"}""", "scheduler.mode", "The direction follows 'monitor'")]
    [InlineData("""{"type": "adagrad"}""", """{"type": "crossEntropy"}""", """{"type": "oneCycleLR", "maxLr": 0.1}""", "scheduler.cycleMomentum", "adagrad has no momentum to cycle")]
    [InlineData("""{"type": "adam"}""", """{"type": "crossEntropy"}""", """{"type": "warmRestarts"}""", "scheduler.type", "'warmRestarts' is not a known scheduler type.")]
    public async Task Runs_that_do_not_fit_are_refused_naming_the_field_and_the_fix(string optimizer, string loss, string? scheduler, string field, string expected)
    {
        var (datasetId, modelId) = await Workflow.ImportIrisAndMlpAsync(_client);
        var body = $$"""{"datasetId": "{{datasetId}}", "modelId": "{{modelId}}", "optimizer": {{optimizer}}, "loss": {{loss}}, "scheduler": {{scheduler ?? "null"}}, "epochs": 3}""";

        var problem = await ExpectProblemAsync(await _client.PostAsync("/api/runs", new StringContent(body, Encoding.UTF8, "application/json")));

        Assert.Contains(expected, Assert.Single(problem.Errors[field]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_hyperparameter_too_large_for_torchsharp_is_refused_not_crashed_on()
    {
        var problem = await ExpectProblemAsync(await _client.PostAsync("/api/models/validate", new StringContent(
            """{"layers": [{"type": "linear", "outFeatures": 3000000000}], "inputShape": [4]}""", Encoding.UTF8, "application/json")));

        Assert.Contains("must be between", Assert.Single(problem.Errors["layers[0].outFeatures"]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ids_that_do_not_exist_are_named()
    {
        var problem = await ExpectProblemAsync(await _client.PostAsJsonAsync("/api/runs", new
        {
            datasetId = Guid.NewGuid(), modelId = Guid.NewGuid(), optimizer = new { type = "sgd" }, loss = new { type = "crossEntropy" }, epochs = 1,
        }));

        Assert.Contains("no dataset has id", Assert.Single(problem.Errors["datasetId"]), StringComparison.Ordinal);
        Assert.Contains("no model has id", Assert.Single(problem.Errors["modelId"]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Malformed_json_and_wrong_types_name_the_field()
    {
        var wrongType = await ExpectProblemAsync(await _client.PostAsync("/api/runs",
            new StringContent("{\"epochs\": \"ten\"}", Encoding.UTF8, "application/json")));
        Assert.Equal("must be a whole number.", Assert.Single(wrongType.Errors["epochs"]));

        var truncated = await ExpectProblemAsync(await _client.PostAsync("/api/runs",
            new StringContent("{\"epochs\": 3", Encoding.UTF8, "application/json")));
        Assert.NotEmpty(truncated.Errors);
    }

    [Fact]
    public async Task A_label_column_that_does_not_exist_is_refused_with_the_columns_listed()
    {
        var problem = await ExpectProblemAsync(await _client.PostAsync("/api/datasets",
            Workflow.CsvForm(await File.ReadAllBytesAsync(Workflow.IrisPath), "iris.csv", ("labelColumn", "kind"))));

        var message = Assert.Single(problem.Errors["labelColumn"]);
        Assert.Contains("no column named 'kind'", message, StringComparison.Ordinal);
        Assert.Contains("species", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a,b,label\n1,2,0\n1,x,1\n", "line 3, column 'b': 'x' is not a number")]
    [InlineData("a,b,label\n1,2,0\n1,2\n", "line 3 has 2 values but the header has 3")]
    [InlineData("a,b,label\n1,NaN,0\n", "line 2, column 'b': NaN is not a finite")]
    [InlineData("", "the file is empty")]
    [InlineData("a,b,label\n", "has a header but no data rows")]
    public async Task Broken_csv_files_are_refused_with_the_line_and_column(string csv, string expected)
    {
        var problem = await ExpectProblemAsync(await _client.PostAsync("/api/datasets", Workflow.CsvForm(Encoding.UTF8.GetBytes(csv))));

        Assert.Contains(expected, Assert.Single(problem.Errors["file"]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_upload_without_a_file_is_refused()
    {
        using var form = new MultipartFormDataContent { { new StringContent("iris"), "name" } };
        var problem = await ExpectProblemAsync(await _client.PostAsync("/api/datasets", form));

        Assert.Contains("file", problem.Errors.Keys);
    }

    [Fact]
    public async Task Refused_requests_leave_no_row_and_no_file_behind()
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ExperimentsDbContext>();
        var datasetsBefore = await db.Datasets.CountAsync();
        var modelsBefore = await db.Models.CountAsync();
        var runsBefore = await db.Runs.CountAsync();
        var filesBefore = Directory.GetFiles(Path.Combine(factory.DataFolder, "datasets"));

        await _client.PostAsync("/api/datasets", Workflow.CsvForm(Encoding.UTF8.GetBytes("a,b,label\n1,2,0\n1,x,1\n")));
        await _client.PostAsync("/api/datasets", Workflow.CsvForm(Encoding.UTF8.GetBytes("a,b,label\n1,2,0\n"), "x.csv", ("testFraction", "1.5")));
        await _client.PostAsJsonAsync("/api/models", new { name = "bad", layers = new object[] { new { type = "nope" } } });
        await _client.PostAsJsonAsync("/api/runs", new { epochs = 0 });

        Assert.Equal(datasetsBefore, await db.Datasets.CountAsync());
        Assert.Equal(modelsBefore, await db.Models.CountAsync());
        Assert.Equal(runsBefore, await db.Runs.CountAsync());
        Assert.Equal(filesBefore, Directory.GetFiles(Path.Combine(factory.DataFolder, "datasets")));
    }
}
