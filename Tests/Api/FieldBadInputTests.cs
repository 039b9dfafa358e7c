using System.Net;
using System.Net.Http.Json;
using System.Text;
using Experiments.Api;
using Experiments.Api.Persistence;
using Experiments.Domain.Datasets;
using Experiments.Domain.Losses;
using Experiments.Domain.Models;
using Experiments.Domain.Optimizers;
using Experiments.Domain.Runs;
using Experiments.Domain.Schedulers;
using Experiments.Tests.Support;
using static Experiments.Tests.Support.ProblemAssertions;
using Experiments.Web.Services;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Experiments.Tests.Api;

/// <summary>
/// A misspelt field, form field or query parameter is a 400 naming it, the valid names and the nearest one, never a
/// silent default; enums are names, not numbers; page numbers past the end give empty pages; names are visible text.
/// </summary>
[Collection(OneAtATime.Name)]
public sealed class FieldBadInputTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Theory]
    [InlineData("/api/runs", """{"epochs": 3, "targetAcuracy": 0.9}""", "targetAcuracy", "is not a field of a run; did you mean 'targetAccuracy'? The fields are datasetId, modelId, optimizer, loss, scheduler, epochs, batchSize, shuffle, seed, targetAccuracy, device, validationFraction, gradientClipNorm, evaluateEvery, logEveryBatches, watch, detectAnomaly, threads.")]
    [InlineData("/api/runs", """{"Epochs": 3}""", "Epochs", "did you mean 'epochs'?")]
    [InlineData("/api/models", """{"name": "m", "descripton": "x", "layers": [{"type": "linear", "outFeatures": 3}]}""", "descripton", "is not a field of a model; the fields are name, layers, inputShape.")]
    [InlineData("/api/models/validate", """{"layers": [{"type": "relu"}], "inputShape": [4], "batchsize": 8}""", "batchsize", "is not a field of a model to validate; did you mean 'batchSize'?")]
    [InlineData("/api/runs/3fa85f64-5717-4562-b3fc-2c963f66afa6/evaluate", """{"datasetId": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "splt": "all"}""", "splt", "is not a field of an evaluation; did you mean 'split'? The fields are datasetId, split.")]
    [InlineData("/api/runs/3fa85f64-5717-4562-b3fc-2c963f66afa6/predict", """{"sample": [[1, 2, 3, 4]]}""", "sample", "is not a field of a prediction; did you mean 'samples'?")]
    public async Task Regression_a_member_a_body_does_not_define_is_refused_naming_the_valid_ones_and_the_nearest(string path, string body, string field, string expected)
    {
        var problem = await ExpectProblemAsync(await PostAsync(path, body));

        Assert.Contains(expected, Assert.Single(problem.Errors[field]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_misspelt_hyperparameter_or_layer_field_is_keyed_by_its_path_with_the_nearest_name()
    {
        var (datasetId, modelId) = await Workflow.ImportIrisAndMlpAsync(_client);
        var run = await ExpectProblemAsync(await PostAsync("/api/runs",
            $$"""{"datasetId": "{{datasetId}}", "modelId": "{{modelId}}", "optimizer": {"type": "sgd", "lrr": 0.1}, "loss": {"type": "crossEntropy"}, "epochs": 1}"""));
        var model = await ExpectProblemAsync(await PostAsync("/api/models",
            """{"name": "m", "layers": [{"type": "linear", "outFeatures": 8}, {"type": "relu"}, {"type": "linear", "outFeature": 3}]}"""));

        Assert.Contains("sgd has no 'lrr'. Did you mean 'lr'?", Assert.Single(run.Errors["optimizer.lrr"]), StringComparison.Ordinal);
        Assert.Contains("linear has no 'outFeature'. Did you mean 'outFeatures'?", Assert.Single(model.Errors["layers[2].outFeature"]), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/api/runs", """{"device": 5}""", "device", "must be one of auto, cpu, cuda.")]
    [InlineData("/api/runs", """{"device": 1}""", "device", "must be one of auto, cpu, cuda.")]
    [InlineData("/api/runs", """{"device": "1"}""", "device", "must be one of auto, cpu, cuda.")]
    [InlineData("/api/runs", """{"device": "gpu"}""", "device", "must be one of auto, cpu, cuda.")]
    [InlineData("/api/runs/3fa85f64-5717-4562-b3fc-2c963f66afa6/evaluate", """{"datasetId": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "split": 5}""", "split", "must be one of test, train, all, validation.")]
    public async Task Regression_an_enum_is_one_of_its_names_never_a_number(string path, string body, string field, string expected)
    {
        var problem = await ExpectProblemAsync(await PostAsync(path, body));

        Assert.Equal(expected, Assert.Single(problem.Errors[field]));
    }

    [Fact]
    public async Task An_unknown_upload_field_is_refused_with_the_nearest_field()
    {
        var problem = await ExpectProblemAsync(await _client.PostAsync("/api/datasets",
            Workflow.CsvForm(await File.ReadAllBytesAsync(Workflow.IrisPath), "iris.csv", ("labelColum", "species"))));

        var message = Assert.Single(problem.Errors["labelColum"]);
        Assert.StartsWith("is not a field of a dataset upload; did you mean 'labelColumn'? The fields are file, labelsFile,", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/api/runs?pagesize=10", "pagesize", "is not a query parameter of GET /api/runs; did you mean 'pageSize'? The query parameters are page, pageSize, status, datasetId, modelId, q, sort, descending, createdBy, sweepId.")]
    [InlineData("/api/datasets?pagesize=10", "pagesize", "is not a query parameter of GET /api/datasets; did you mean 'pageSize'? The query parameters are page, pageSize, createdBy.")]
    [InlineData("/api/models?Page=2", "Page", "is not a query parameter of GET /api/models; did you mean 'page'?")]
    [InlineData("/api/runs?stauts=queued", "stauts", "did you mean 'status'?")]
    [InlineData("/api/runs/3fa85f64-5717-4562-b3fc-2c963f66afa6/logs?size=5", "size", "is not a query parameter of GET /api/runs/{id}/logs; the query parameters are page, pageSize.")]
    [InlineData("/api/datasets/3fa85f64-5717-4562-b3fc-2c963f66afa6/preview?cout=3", "cout", "is not a query parameter of GET /api/datasets/{id}/preview; did you mean 'count'? The query parameters are split, count.")]
    [InlineData("/api/runs/3fa85f64-5717-4562-b3fc-2c963f66afa6?verbose=true", "verbose", "is not a query parameter of GET /api/runs/{id}; it takes no query parameters.")]
    [InlineData("/api/runs/3fa85f64-5717-4562-b3fc-2c963f66afa6/weights?formats=pytorch", "formats", "did you mean 'format'?")]
    public async Task Regression_a_query_parameter_an_endpoint_does_not_take_is_refused_with_the_nearest(string url, string field, string expected)
    {
        var problem = await ExpectProblemAsync(await _client.GetAsync(url));

        Assert.Contains(expected, Assert.Single(problem.Errors[field]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Declared_query_parameters_in_their_exact_case_are_taken()
    {
        await Workflow.ImportIrisAndMlpAsync(_client);

        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync("/api/runs?page=1&pageSize=5&status=queued&q=iris&sort=status&descending=false")).StatusCode);
        var datasets = await (await _client.GetAsync("/api/datasets?page=1&pageSize=1")).ReadAsAsync<Experiments.Domain.Page<DatasetView>>();
        Assert.Equal(1, datasets.PageSize);
    }

    [Fact]
    public void Every_api_endpoint_checks_its_query_string()
    {
        var endpoints = factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(endpoint => endpoint.RoutePattern.RawText?.StartsWith("/api/", StringComparison.Ordinal) == true)
            .ToList();

        Assert.NotEmpty(endpoints);
        Assert.All(endpoints, endpoint => Assert.True(endpoint.Metadata.GetMetadata<QueryParametersChecked>() is not null, endpoint.DisplayName));
    }

    [Theory]
    [InlineData("/api/datasets")]
    [InlineData("/api/models")]
    [InlineData("/api/runs")]
    public async Task Regression_a_page_whose_offset_overflows_32_bits_is_empty_not_the_first_page(string path)
    {
        var (datasetId, modelId) = await Workflow.ImportIrisAndMlpAsync(_client);
        await Workflow.CreateRunAsync(_client, datasetId, modelId, epochs: 1);

        var page = await (await _client.GetAsync($"{path}?page=67108865&pageSize=64")).ReadAsAsync<Experiments.Domain.Page<System.Text.Json.JsonElement>>();

        Assert.Empty(page.Items);
        Assert.Equal(67108865, page.PageNumber);
        Assert.True(page.TotalCount > 0);
    }

    [Theory]
    [InlineData("bell\u0007")]
    [InlineData("\u001b[31mred")]
    [InlineData("invoice\u202Etxt.exe")]
    [InlineData("iso\u2067late")]
    [InlineData("zero\u200Bwidth")]
    [InlineData("two\u2028lines")]
    public async Task Regression_a_name_with_characters_that_disguise_it_is_refused(string name)
    {
        var model = await ExpectProblemAsync(await _client.PostAsJsonAsync("/api/models", new { name, layers = new object[] { new { type = "relu" } } }));
        var dataset = await ExpectProblemAsync(await _client.PostAsync("/api/datasets",
            Workflow.CsvForm(Encoding.UTF8.GetBytes("a,label\n1,0\n2,1\n3,0\n4,1\n"), "x.csv", ("name", name))));

        Assert.StartsWith("must be visible text: character ", Assert.Single(model.Errors["name"]), StringComparison.Ordinal);
        Assert.StartsWith("must be visible text: character ", Assert.Single(dataset.Errors["name"]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Names_in_any_script_and_with_emoji_are_kept()
    {
        var response = await _client.PostAsJsonAsync("/api/models", new { name = "Ünïcode 模型 می‌خواهم 👩‍🔬", layers = new object[] { new { type = "relu" } } });

        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        Assert.Equal("Ünïcode 模型 می‌خواهم 👩‍🔬", (await response.ReadAsAsync<ModelView>()).Name);
    }

    [Fact]
    public async Task Stored_json_with_a_field_that_no_longer_exists_is_still_read()
    {
        var dataset = await Workflow.ImportIrisAsync(_client);
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<ExperimentsDbContext>();
            Assert.Equal(1, await db.Database.ExecuteSqlAsync(
                $"UPDATE Datasets SET Preprocessing = '{{\"scale\":null,\"standardize\":false,\"reshape\":null,\"mean\":null,\"std\":null,\"isNone\":true}}' WHERE Id = {dataset.Id}"));
        }

        var read = await _client.GetAsync($"/api/datasets/{dataset.Id}");

        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Contains(dataset.Id, (await (await _client.GetAsync("/api/datasets?pageSize=500")).ReadAsAsync<Experiments.Domain.Page<DatasetView>>()).Items.Select(d => d.Id));
    }

    [Fact]
    public async Task The_dashboards_client_sends_only_defined_fields()
    {
        var client = new ExperimentsClient(_client);
        var csv = Encoding.UTF8.GetBytes("a;b;label\n1;2;x\n2;3;y\n3;4;x\n4;5;y\n5;6;x\n6;7;y\n");
        var dataset = await client.ImportDatasetAsync(
            new DatasetUpload("dashboard.csv", csv.Length, "dashboard", "label", HasHeader: true, Delimiter: ";", TestFraction: 0.5, Seed: 3),
            new MemoryStream(csv), progress: null, CancellationToken.None);
        LayerSpec[] layers = [new("linear", new Dictionary<string, System.Text.Json.JsonElement> { ["outFeatures"] = System.Text.Json.JsonSerializer.SerializeToElement(2) })];
        var validated = await client.ValidateModelAsync(new ValidateModelRequest(layers, [2], 8), CancellationToken.None);
        var model = await client.CreateModelAsync(new CreateModelRequest("dashboard-model", layers, [2]), CancellationToken.None);
        Assert.True(dataset.Succeeded && validated.Succeeded && model.Succeeded, $"{dataset.Problem} {validated.Problem} {model.Problem}");

        var run = await client.CreateRunAsync(new RunSpec
        {
            DatasetId = dataset.Value!.Id,
            ModelId = model.Value!.Id,
            Optimizer = new OptimizerSpec("sgd", null),
            Loss = new LossSpec("crossEntropy", null),
            Scheduler = new SchedulerSpec("stepLR", new Dictionary<string, System.Text.Json.JsonElement> { ["stepSize"] = System.Text.Json.JsonSerializer.SerializeToElement(1) }),
            Epochs = 1,
            BatchSize = 2,
            Shuffle = false,
            Seed = 1,
            TargetAccuracy = 0.99,
            Device = TrainingDevice.Cpu,
            GradientClipNorm = 1,
            EvaluateEvery = 1,
            LogEveryBatches = 1,
            Threads = 1,
        }, CancellationToken.None);

        Assert.True(run.Succeeded, $"{run.StatusCode}: {string.Join("; ", run.Problem?.Errors.Select(error => $"{error.Key}: {string.Join(" ", error.Value)}") ?? [])}");
        await Workflow.WaitUntilFinishedAsync(_client, run.Value!.Id);
    }

    private Task<HttpResponseMessage> PostAsync(string path, string json) =>
        _client.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
}
