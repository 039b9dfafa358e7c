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
/// read by a custom converter. This filter describes each family as a <c>oneOf</c> of one schema per catalog type
/// (<c>LinearLayer</c>, <c>AdamOptimizer</c>, …) told apart by the <c>type</c> discriminator, each listing its
/// hyperparameters with their JSON type, range, PyTorch default and description. It is generated from the catalogs,
/// so a type added there documents itself, and it is as strict as the catalog: unknown hyperparameters are refused.
/// </summary>
internal sealed class ComponentSpecSchemaFilter : ISchemaFilter
{
    /// <summary>The families, each with the suffix of its types' schema names and a working example.</summary>
    private static readonly Dictionary<Type, (ComponentCatalog Catalog, string Suffix, Func<JsonNode> Example)> Families = new()
    {
        [typeof(LayerSpec)] = (LayerCatalog.Instance, "Layer", SpecExamples.Layer),
        [typeof(OptimizerSpec)] = (OptimizerCatalog.Instance, "Optimizer", SpecExamples.Optimizer),
        [typeof(LossSpec)] = (LossCatalog.Instance, "Loss", SpecExamples.Loss),
        [typeof(SchedulerSpec)] = (SchedulerCatalog.Instance, "Scheduler", SpecExamples.Scheduler),
    };

    /// <summary>The schema name of one catalog type: <c>linear</c> → <c>LinearLayer</c>, <c>stepLR</c> → <c>StepLRScheduler</c>.</summary>
    public static string SchemaName(ComponentDefinition definition, string suffix) => char.ToUpperInvariant(definition.Type[0]) + definition.Type[1..] + suffix;

    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        // Only the family's own schema: a member of this type (allOf: [$ref] for a nullable one) refers to it.
        if (!Families.TryGetValue(context.Type, out var family) || schema is not OpenApiSchema concrete || context.MemberInfo is not null || context.ParameterInfo is not null)
        {
            return;
        }
        var familyName = context.Type.Name;
        var members = new List<IOpenApiSchema>();
        var mapping = new Dictionary<string, OpenApiSchemaReference>(StringComparer.Ordinal);
        foreach (var definition in family.Catalog.Definitions)
        {
            var name = SchemaName(definition, family.Suffix);
            if (!context.SchemaRepository.Schemas.ContainsKey(name))
            {
                context.SchemaRepository.AddDefinition(name, Member(definition, familyName));
            }
            members.Add(new OpenApiSchemaReference(name));
            mapping[definition.Type] = new OpenApiSchemaReference(name);
        }
        concrete.Type = null;
        concrete.Properties = null;
        concrete.Required = null;
        concrete.AdditionalProperties = null;
        concrete.AdditionalPropertiesAllowed = true;
        concrete.OneOf = members;
        concrete.Discriminator = new OpenApiDiscriminator { PropertyName = "type", Mapping = mapping };
        concrete.Example = family.Example();
        concrete.Description = $"A {family.Catalog.Family}: \"type\" names it, the other members are its hyperparameters "
            + "(PyTorch names in camelCase, PyTorch defaults). Each type has its own schema below.";
    }

    /// <summary>One type: <c>type</c> fixed to its name, every hyperparameter, nothing else.</summary>
    private static OpenApiSchema Member(ComponentDefinition definition, string familyName)
    {
        var properties = new Dictionary<string, IOpenApiSchema>(StringComparer.Ordinal)
        {
            ["type"] = new OpenApiSchema
            {
                Type = JsonSchemaType.String,
                Enum = [JsonValue.Create(definition.Type)],
                Description = $"\"{definition.Type}\".",
            },
        };
        foreach (var parameter in definition.Parameters)
        {
            properties[parameter.Name] = Parameter(parameter, familyName);
        }
        return new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Description = definition.Summary,
            Properties = properties,
            Required = new SortedSet<string>(definition.Parameters.Where(p => p.Required).Select(p => p.Name).Prepend("type"), StringComparer.Ordinal),
            AdditionalPropertiesAllowed = false,
        };
    }

    private static OpenApiSchema Parameter(ParameterDefinition parameter, string familyName)
    {
        var schema = parameter.Kind switch
        {
            ParameterKind.Integer => Number(parameter, JsonSchemaType.Integer),
            ParameterKind.Number => Number(parameter, JsonSchemaType.Number),
            ParameterKind.Boolean => new OpenApiSchema { Type = JsonSchemaType.Boolean },
            ParameterKind.Text => new OpenApiSchema
            {
                Type = JsonSchemaType.String,
                Enum = parameter.AllowedValues?.Select(value => (JsonNode)JsonValue.Create(value)).ToList(),
            },
            ParameterKind.IntegerList => List(parameter, Number(parameter, JsonSchemaType.Integer)),
            ParameterKind.NumberList => List(parameter, Number(parameter, JsonSchemaType.Number)),
            ParameterKind.IntegerOrList => new OpenApiSchema
            {
                OneOf = [Number(parameter, JsonSchemaType.Integer), List(parameter, Number(parameter, JsonSchemaType.Integer))],
            },
            ParameterKind.Layers => new OpenApiSchema
            {
                Type = JsonSchemaType.Array,
                MinItems = 1,
                Items = new OpenApiSchemaReference(familyName),
            },
            _ => throw new InvalidOperationException($"Unhandled parameter kind {parameter.Kind}."),
        };
        schema.Description = parameter.Description;
        if (parameter.Default is not null)
        {
            schema.Default = JsonSerializer.SerializeToNode(parameter.Default);
        }
        else if (!parameter.Required)
        {
            // No default means PyTorch's "None": the resolved spec holds null, and null may be sent.
            MarkNullable(schema);
        }
        return schema;
    }

    private static OpenApiSchema Number(ParameterDefinition parameter, JsonSchemaType type)
    {
        var schema = new OpenApiSchema { Type = type, Format = type == JsonSchemaType.Integer ? "int32" : "double" };
        OpenApiBounds.Set(schema, parameter.Minimum, parameter.ExclusiveMinimum, parameter.Maximum, parameter.ExclusiveMaximum);
        return schema;
    }

    private static OpenApiSchema List(ParameterDefinition parameter, OpenApiSchema items) => new()
    {
        Type = JsonSchemaType.Array,
        Items = items,
        MinItems = parameter.Length,
        MaxItems = parameter.Length,
    };

    /// <summary>
    /// Null allowed besides the schema's type or, for a number-or-list, by its first member: OpenAPI 3.0's
    /// <c>nullable</c> needs a <c>type</c> beside it, and a <c>oneOf</c> of a number and a list has none.
    /// </summary>
    private static void MarkNullable(OpenApiSchema schema)
    {
        if (schema.OneOf is [OpenApiSchema first, ..])
        {
            first.Type |= JsonSchemaType.Null;
        }
        else
        {
            schema.Type |= JsonSchemaType.Null;
        }
    }
}
