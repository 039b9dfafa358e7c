using System.Text.Json;
using System.Text.Json.Nodes;
using Experiments.Domain.Losses;
using Experiments.Domain.Models;
using Experiments.Domain.Optimizers;
using Experiments.Domain.Schedulers;
using Experiments.Domain.Specs;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Experiments.Api;

/// <summary>
/// Layers, optimizers, losses and schedulers are flat JSON objects (<c>{"type": "linear", "outFeatures": 3}</c>)
/// read by a custom converter; this filter tells OpenAPI so, listing each family's types with their
/// hyperparameters and PyTorch defaults (from the catalogs, so the documentation cannot drift) and a working example.
/// </summary>
internal sealed class ComponentSpecSchemaFilter : ISchemaFilter
{
    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        var (catalog, example) = context.Type switch
        {
            var t when t == typeof(LayerSpec) => (LayerCatalog.Instance, SpecExamples.Layer()),
            var t when t == typeof(OptimizerSpec) => (OptimizerCatalog.Instance, SpecExamples.Optimizer()),
            var t when t == typeof(LossSpec) => (LossCatalog.Instance, SpecExamples.Loss()),
            var t when t == typeof(SchedulerSpec) => (SchedulerCatalog.Instance, SpecExamples.Scheduler()),
            _ => ((ComponentCatalog?)null, (JsonNode?)null),
        };
        if (catalog is null || schema is not OpenApiSchema concrete)
        {
            return;
        }
        concrete.Type = JsonSchemaType.Object;
        concrete.Properties = new Dictionary<string, IOpenApiSchema>
        {
            ["type"] = new OpenApiSchema
            {
                Type = JsonSchemaType.String,
                Enum = catalog.Definitions.Select(definition => (JsonNode)JsonValue.Create(definition.Type)!).ToList(),
            },
        };
        concrete.Required = new HashSet<string> { "type" };
        concrete.AdditionalPropertiesAllowed = true;
        concrete.Example = example;
        concrete.Description = $"A {catalog.Family}: \"type\" plus its hyperparameters (PyTorch names, camelCase; defaults are PyTorch's).\n\n"
            + string.Join("\n", catalog.Definitions.Select(Describe));
    }

    private static string Describe(ComponentDefinition definition)
    {
        var parameters = definition.Parameters.Count == 0
            ? "no hyperparameters"
            : string.Join(", ", definition.Parameters.Select(p => p.Required ? $"`{p.Name}` (required)" : $"`{p.Name}`={JsonSerializer.Serialize(p.Default)}"));
        return $"- **{definition.Type}**: {definition.Summary} {parameters}.";
    }
}
