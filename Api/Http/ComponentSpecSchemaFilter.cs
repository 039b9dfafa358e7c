using System.Text.Json.Nodes;
using Experiments.Domain.Losses;
using Experiments.Domain.Models;
using Experiments.Domain.Optimizers;
using Experiments.Domain.Specs;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Experiments.Api;

/// <summary>
/// Layers, optimizers and losses are flat JSON objects (<c>{"type": "linear", "outFeatures": 3}</c>) read by a
/// custom converter; this filter tells OpenAPI so, listing each family's types and giving a working example.
/// </summary>
internal sealed class ComponentSpecSchemaFilter : ISchemaFilter
{
    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        var (catalog, example) = context.Type switch
        {
            var t when t == typeof(LayerSpec) => (LayerCatalog.Instance, new JsonObject { ["type"] = "linear", ["outFeatures"] = 3 }),
            var t when t == typeof(OptimizerSpec) => (OptimizerCatalog.Instance, new JsonObject { ["type"] = "adam", ["lr"] = 0.01 }),
            var t when t == typeof(LossSpec) => (LossCatalog.Instance, new JsonObject { ["type"] = "crossEntropy" }),
            _ => ((ComponentCatalog?)null, (JsonObject?)null),
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
        concrete.Description = $"A {catalog.Family}: \"type\" plus its hyperparameters (PyTorch names, camelCase). "
            + string.Join(" ", catalog.Definitions.Select(definition =>
                $"{definition.Type}({string.Join(", ", definition.Parameters.Select(p => p.Required ? p.Name + " (required)" : $"{p.Name}={System.Text.Json.JsonSerializer.Serialize(p.Default)}"))})."));
    }
}
