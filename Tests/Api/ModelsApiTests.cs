using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Experiments.Domain.Models;
using Experiments.Domain.Runs;
using Experiments.Tests.Support;
using static Experiments.Tests.Support.ProblemAssertions;
using Microsoft.AspNetCore.Mvc;

namespace Experiments.Tests.Api;

[Collection(OneAtATime.Name)]
public sealed class ModelsApiTests(ApiFactory factory) : ModelsApiSuite<ApiFactory>(factory), IClassFixture<ApiFactory>;

/// <summary>The same suite on PostgreSQL.</summary>
[Collection(PostgreSqlCollection.Name)]
public sealed class ModelsApiOnPostgreSqlTests(PostgreSqlApiFactory factory) : ModelsApiSuite<PostgreSqlApiFactory>(factory), IClassFixture<PostgreSqlApiFactory>;

/// <summary>Models over HTTP: validation with shapes and estimates, templates, and the Swagger examples run as they are.</summary>
public abstract class ModelsApiSuite<TFactory>(TFactory factory) where TFactory : ApiFactory
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task Validate_answers_every_layers_shape_parameters_flops_and_the_training_estimate()
    {
        var response = await PostAsync("/api/models/validate", """
            {
              "layers": [
                {"type": "reshape", "shape": [1, 28, 28]},
                {"type": "conv2d", "outChannels": 4, "kernelSize": 3, "padding": 1},
                {"type": "relu"},
                {"type": "maxPool2d", "kernelSize": 2},
                {"type": "flatten"},
                {"type": "linear", "outFeatures": 10}
              ],
              "inputShape": [784],
              "batchSize": 8
            }
            """);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var validation = await response.ReadAsAsync<ModelValidation>();
        Assert.Equal([[1, 28, 28], [4, 28, 28], [4, 28, 28], [4, 14, 14], [784], [10]], validation.Layers.Select(layer => layer.OutputShape));
        Assert.Equal(4 * 9 + 4 + 784 * 10 + 10, validation.TotalParameters);
        Assert.Equal(validation.Layers.Sum(layer => layer.Flops), validation.ForwardFlops);
        Assert.Equal(8, validation.Estimate.BatchSize);
        Assert.Equal(validation.ForwardFlops * 8, validation.Estimate.ForwardFlops);
        Assert.True(validation.Estimate.TotalBytes > validation.Estimate.ParameterBytes);
    }

    [Fact]
    public async Task A_convolution_on_flat_features_is_refused_with_the_reshape_that_fixes_it()
    {
        var problem = await ExpectProblemAsync(await PostAsync("/api/models/validate", """
            {
              "layers": [{"type": "linear", "outFeatures": 784}, {"type": "relu"}, {"type": "dropout"}, {"type": "conv2d", "outChannels": 8, "kernelSize": 3}],
              "inputShape": [784]
            }
            """));

        Assert.Equal("(conv2d) needs input [C,H,W]; it receives [784] — add a reshape to [1,28,28] before it.", Assert.Single(problem.Errors["layers[3]"]));
    }

    [Fact]
    public async Task Templates_are_listed_with_their_input_shape_and_each_validates_over_http()
    {
        var templates = await (await _client.GetAsync("/api/models/templates")).ReadAsAsync<List<ModelTemplate>>();

        Assert.Equal(["linear-classifier", "mlp", "lenet5", "cnn-28", "cnn-32", "resnet-small"], templates.Select(template => template.Name));
        foreach (var template in templates)
        {
            Assert.False(string.IsNullOrWhiteSpace(template.Description));
            var response = await _client.PostAsJsonAsync("/api/models/validate", new { layers = template.Layers, inputShape = template.InputShape }, ApiFactory.Json);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{template.Name}: {await response.Content.ReadAsStringAsync()}");
            var validation = await response.ReadAsAsync<ModelValidation>();
            Assert.Equal([10], validation.OutputShape);
        }
    }

    [Fact]
    public async Task A_residual_model_is_saved_with_its_sub_stack_resolved()
    {
        var response = await PostAsync("/api/models", """
            {
              "name": "tiny-resnet",
              "layers": [
                {"type": "linear", "outFeatures": 8},
                {"type": "residual", "layers": [{"type": "linear", "outFeatures": 8}, {"type": "relu"}]},
                {"type": "linear", "outFeatures": 3}
              ]
            }
            """);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var model = await (await _client.GetAsync(response.Headers.Location)).ReadAsAsync<ModelView>();
        var inner = ModelValidator.SubLayers(model.Layers[1]);
        Assert.True(inner[0].Bool("bias"), "the sub-stack's defaults are filled in");
    }

    [Fact]
    public async Task The_swagger_examples_work_when_posted_as_they_are()
    {
        var swagger = JsonNode.Parse(await _client.GetStringAsync("/swagger/v1/swagger.json"))!;
        var schemas = swagger["components"]!["schemas"]!;
        foreach (var name in new[] { "LayerSpec", "OptimizerSpec", "LossSpec", "SchedulerSpec" })
        {
            Assert.Equal(JsonValueKind.Object, schemas[name]!["example"]!.GetValueKind());
            Assert.Contains("PyTorch", schemas[name]!["description"]!.GetValue<string>(), StringComparison.Ordinal);
        }

        var layer = await PostAsync("/api/models/validate", new JsonObject { ["layers"] = new JsonArray(schemas["LayerSpec"]!["example"]!.DeepClone()), ["inputShape"] = new JsonArray(4) });
        Assert.Equal(HttpStatusCode.OK, layer.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync("/api/models/validate", schemas["ValidateModelRequest"]!["example"]!)).StatusCode);
        var created = await PostAsync("/api/models", schemas["CreateModelRequest"]!["example"]!);
        Assert.True(created.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, await created.Content.ReadAsStringAsync());

        // Once there is a dataset, the runs example names it and a model that fits it, and starts a run as it stands.
        await Workflow.ImportIrisAsync(_client);
        swagger = JsonNode.Parse(await _client.GetStringAsync("/swagger/v1/swagger.json"))!;
        var runExample = swagger["paths"]!["/api/runs"]!["post"]!["requestBody"]!["content"]!["application/json"]!["example"]!;
        Assert.Equal("stepLR", runExample["scheduler"]!["type"]!.GetValue<string>());
        var run = await PostAsync("/api/runs", runExample);
        Assert.True(run.StatusCode == HttpStatusCode.Accepted, await run.Content.ReadAsStringAsync());
        var finished = await Workflow.WaitUntilFinishedAsync(_client, (await run.ReadAsAsync<RunView>()).Id);
        Assert.Equal(RunStatus.Succeeded, finished.Status);
        // stepLR halves lr 0.01 every 20 epochs; the resolved spec keeps the whole scheduler.
        Assert.Equal([0.01, 0.005], finished.Metrics.Select(metric => Math.Round(metric.LearningRate, 10)).Distinct());
        Assert.Equal(0.5, finished.Spec.Scheduler!.Double("gamma"));
        Assert.Equal(0, finished.Spec.Scheduler.Int("warmupEpochs"));
    }

    private Task<HttpResponseMessage> PostAsync(string path, JsonNode body) => PostAsync(path, body.ToJsonString());

    private Task<HttpResponseMessage> PostAsync(string path, string json) =>
        _client.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
}
