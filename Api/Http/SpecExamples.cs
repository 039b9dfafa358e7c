using System.Text.Json;
using System.Text.Json.Nodes;
using Experiments.Api.Persistence;
using Experiments.Domain.Datasets;
using Experiments.Domain.Models;
using Experiments.Domain.Runs;
using Experiments.Domain.Validation;
using Microsoft.EntityFrameworkCore;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Experiments.Api;

/// <summary>
/// The examples Swagger shows, written so that "Try it out" works with them as they are: each is checked by a
/// test that posts it. A fresh node per use, as a JSON node has one parent.
/// </summary>
internal static class SpecExamples
{
    public static JsonNode Layer() => new JsonObject { ["type"] = "linear", ["outFeatures"] = 3 };

    public static JsonNode Optimizer() => new JsonObject { ["type"] = "adam", ["lr"] = 0.01 };

    public static JsonNode Loss() => new JsonObject { ["type"] = "crossEntropy" };

    public static JsonNode Scheduler() => new JsonObject { ["type"] = "stepLR", ["stepSize"] = 20, ["gamma"] = 0.5 };

    /// <summary>The walkthrough's Iris MLP, with its input shape so the answer includes every layer's shapes.</summary>
    public static JsonNode CreateModel() => new JsonObject
    {
        ["name"] = "iris-mlp",
        ["layers"] = new JsonArray(
            new JsonObject { ["type"] = "linear", ["outFeatures"] = 16 },
            new JsonObject { ["type"] = "relu" },
            new JsonObject { ["type"] = "linear", ["outFeatures"] = 3 }),
        ["inputShape"] = new JsonArray(4),
    };

    /// <summary>LeNet-5 from the templates, on 28×28 grey images, estimated at batch size 64.</summary>
    public static JsonNode ValidateModel() => new JsonObject
    {
        ["layers"] = JsonSerializer.SerializeToNode(ModelTemplates.All.Single(template => template.Name == "lenet5").Layers),
        ["inputShape"] = new JsonArray(1, 28, 28),
        ["batchSize"] = 64,
    };

    /// <summary>A run of a dataset and a model; crossEntropy for class labels, mse for regression targets.</summary>
    public static JsonObject Run(Guid datasetId, Guid modelId, DatasetTask task) => new()
    {
        ["datasetId"] = datasetId.ToString(),
        ["modelId"] = modelId.ToString(),
        ["optimizer"] = Optimizer(),
        ["loss"] = task == DatasetTask.Regression ? new JsonObject { ["type"] = "mse" } : Loss(),
        ["scheduler"] = Scheduler(),
        ["epochs"] = 40,
        ["batchSize"] = 16,
        ["seed"] = 42,
    };
}

/// <summary>Request-body examples for the model endpoints, and a RunSpec example naming what to replace.</summary>
internal sealed class RequestExampleSchemaFilter : ISchemaFilter
{
    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        if (schema is not OpenApiSchema concrete || context.MemberInfo is not null || context.ParameterInfo is not null)
        {
            return;
        }
        if (context.Type == typeof(CreateModelRequest))
        {
            concrete.Example = SpecExamples.CreateModel();
        }
        else if (context.Type == typeof(ValidateModelRequest))
        {
            concrete.Example = SpecExamples.ValidateModel();
        }
        else if (context.Type == typeof(RunSpec))
        {
            concrete.Example = SpecExamples.Run(Guid.Empty, Guid.Empty, DatasetTask.Classification);
            concrete.Description = "A run: dataset and model ids, optimizer, loss, optional scheduler and training options. "
                + "POST /api/runs shows an example with the ids of a dataset and a model that fit each other, once there are some.";
        }
    }
}

/// <summary>
/// Makes the example of POST /api/runs (and of its pre-flight and range test) runnable: it names the newest dataset and model that fit each other
/// (checked exactly as a run is), so "Try it out" starts a run as it stands.
/// </summary>
internal sealed class RunExampleOperationFilter(IDbContextFactory<ExperimentsDbContext> databases) : IOperationAsyncFilter
{
    private const int Candidates = 20;

    /// <summary>The operations whose body is a run spec.</summary>
    private static readonly string[] RunSpecPaths = ["api/runs", "api/runs/preflight", "api/runs/lr-range-test"];

    public async Task ApplyAsync(OpenApiOperation operation, OperationFilterContext context, CancellationToken cancellationToken)
    {
        var description = context.ApiDescription;
        if (description.HttpMethod != HttpMethods.Post || !RunSpecPaths.Contains(description.RelativePath?.TrimEnd('/'))
            || operation.RequestBody?.Content is null || !operation.RequestBody.Content.TryGetValue("application/json", out var body))
        {
            return;
        }
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        var datasets = await db.Datasets.AsNoTracking().OrderByDescending(d => d.CreatedAt).Take(Candidates).ToListAsync(cancellationToken);
        var models = await db.Models.AsNoTracking().OrderByDescending(m => m.CreatedAt).Take(Candidates).ToListAsync(cancellationToken);
        foreach (var dataset in datasets)
        {
            foreach (var model in models)
            {
                var example = SpecExamples.Run(dataset.Id, model.Id, dataset.Task);
                if (Fits(example, dataset, model))
                {
                    body.Example = example;
                    return;
                }
            }
        }
    }

    private static bool Fits(JsonObject example, Dataset dataset, ModelDefinition model)
    {
        var errors = new ValidationErrors();
        var spec = RunSpecValidator.Resolve(example.Deserialize<RunSpec>(JsonSerializerOptions.Web), 0, errors);
        return spec is not null && RunSpecValidator.CheckFit(spec, dataset, model, errors) is not null;
    }
}
