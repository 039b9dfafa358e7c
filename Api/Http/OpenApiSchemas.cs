using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Experiments.Api.Datasets;
using Experiments.Api.Models;
using Experiments.Api.Runs;
using Experiments.Domain.Models;
using Experiments.Domain.Runs;
using Experiments.Domain.Sweeps;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Experiments.Api;

/// <summary>
/// What the schemas of answers and request bodies promise. An answer always has every member (null where the view
/// says it may be), so each answer's schema lists them all as required, except members written only when set. A
/// request body requires what its validator calls required, with the ranges the validator checks, taken from the
/// same constants.
/// </summary>
internal sealed class OpenApiSchemaFilter : ISchemaFilter
{
    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        if (schema is not OpenApiSchema { Properties.Count: > 0 } concrete || context.Type.Namespace?.StartsWith("Experiments.", StringComparison.Ordinal) != true)
        {
            return;
        }
        var request = true;
        switch (context.Type)
        {
            case var type when type == typeof(RunSpec):
                Require(concrete, "datasetId", "modelId", "optimizer", "loss", "epochs");
                Bound(concrete, "epochs", 1, RunSpecValidator.MaxEpochs);
                Bound(concrete, "batchSize", 1, RunSpecValidator.MaxBatchSize);
                Bound(concrete, "targetAccuracy", 0, 1, exclusiveMinimum: true);
                Bound(concrete, "gradientClipNorm", 0, null, exclusiveMinimum: true);
                Bound(concrete, "evaluateEvery", 1, null);
                Bound(concrete, "logEveryBatches", 1, null);
                Bound(concrete, "threads", 1, RunSpecValidator.MaxThreads);
                Default(concrete, "batchSize", RunSpecValidator.DefaultBatchSize);
                Default(concrete, "shuffle", true);
                Default(concrete, "evaluateEvery", 1);
                break;
            case var type when type == typeof(CreateModelRequest):
                Require(concrete, "name", "layers");
                Length(concrete, "name", 1, ModelsApi.MaxNameLength);
                Layers(concrete);
                InputShape(concrete);
                break;
            case var type when type == typeof(ValidateModelRequest):
                Require(concrete, "layers", "inputShape");
                Layers(concrete);
                InputShape(concrete);
                Bound(concrete, "batchSize", 1, ModelsApi.MaxBatchSize);
                Default(concrete, "batchSize", RunSpecValidator.DefaultBatchSize);
                break;
            case var type when type == typeof(SweepSpec):
                // Also the resolved spec a sweep answers with; as a request, base and parameters are what it needs.
                Require(concrete, "base", "parameters");
                Length(concrete, "name", 0, SweepSpecValidator.MaxNameLength);
                Default(concrete, "method", JsonNamingPolicy.CamelCase.ConvertName(nameof(SweepMethod.Random)));
                break;
            case var type when type == typeof(SweepOption):
                Require(concrete, "value");
                break;
            case var type when type == typeof(SweepBudget):
                Bound(concrete, "maxTrials", 1, SweepSpecValidator.MaxTrials);
                Bound(concrete, "concurrency", 1, SweepSpecValidator.MaxConcurrency);
                Bound(concrete, "maxEpochs", 1, SweepSpecValidator.MaxEpochsBudget);
                Default(concrete, "concurrency", 1);
                break;
            case var type when type == typeof(EarlyTerminationSpec):
                Default(concrete, "type", JsonNamingPolicy.CamelCase.ConvertName(nameof(EarlyTerminationType.None)));
                Bound(concrete, "minEpochs", 1, null);
                Bound(concrete, "reductionFactor", 2, SweepSpecValidator.MaxReductionFactor);
                Bound(concrete, "warmupEpochs", 1, null);
                Bound(concrete, "minTrials", 1, SweepSpecValidator.MaxTrials);
                break;
            case var type when type == typeof(EvaluateRequest):
                Require(concrete, "datasetId");
                Default(concrete, "split", JsonNamingPolicy.CamelCase.ConvertName(nameof(EvaluationSplit.Test)));
                break;
            case var type when type == typeof(PredictRequest):
                Require(concrete, "samples");
                concrete.Properties!["samples"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.Array,
                    MinItems = 1,
                    MaxItems = TrainedModelApi.MaxPredictSamples,
                    Items = new OpenApiSchema
                    {
                        Type = JsonSchemaType.Array,
                        Items = new OpenApiSchema { Type = JsonSchemaType.Number, Format = "float" },
                        Description = "One sample's values as the dataset's files held them, flattened (a nested list of the same values is read too).",
                    },
                    Description = "Raw samples, e.g. [[5.1, 3.5, 1.4, 0.2]] for Iris; the dataset's preprocessing is applied as at training time.",
                };
                break;
            case var type when type == typeof(DatasetImportForm):
                Values(concrete, "format", DatasetsApi.FormatNames.Keys);
                Values(concrete, "task", DatasetsApi.TaskNames.Keys);
                Bound(concrete, "testFraction", 0, 1, exclusiveMinimum: true, exclusiveMaximum: true);
                Default(concrete, "testFraction", DatasetsApi.DefaultTestFraction);
                Default(concrete, "seed", 0);
                Default(concrete, "standardize", false);
                break;
            default:
                request = false;
                RequireEveryWrittenMember(concrete, context.Type);
                break;
        }
        foreach (var name in concrete.Properties.Keys.ToList())
        {
            var nullable = IsNullable(context.Type, name) && !(request && concrete.Required?.Contains(name) == true);
            concrete.Properties[name] = Reference(concrete.Properties[name], nullable, context.SchemaRepository);
        }
    }

    /// <summary>Whether the C# member behind a schema property may hold null (a nullable reference or value type).</summary>
    private static bool IsNullable(Type type, string name)
    {
        var property = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .FirstOrDefault(candidate => JsonNamingPolicy.CamelCase.ConvertName(candidate.Name) == name);
        return property is not null && (Nullable.GetUnderlyingType(property.PropertyType) is not null
            || new NullabilityInfoContext().Create(property).ReadState == NullabilityState.Nullable);
    }

    /// <summary>
    /// A member that refers to another schema arrives as <c>allOf: [$ref]</c>. Not nullable, it becomes the plain
    /// <c>$ref</c>; nullable, it keeps the <c>allOf</c> and states the referred schema's type beside <c>nullable</c>,
    /// which OpenAPI 3.0 needs for <c>nullable</c> to mean anything.
    /// </summary>
    private static IOpenApiSchema Reference(IOpenApiSchema member, bool nullable, SchemaRepository repository)
    {
        if (member is not OpenApiSchema { AllOf: [OpenApiSchemaReference reference] } wrapper)
        {
            return member;
        }
        if (!nullable)
        {
            return reference;
        }
        var referred = reference.Reference.Id is { } id && repository.Schemas.TryGetValue(id, out var target) ? target.Type : null;
        wrapper.Type = (referred ?? JsonSchemaType.Object) | JsonSchemaType.Null;
        return wrapper;
    }

    /// <summary>An answer: every member is written, null or not, but for those ignored when null or default.</summary>
    private static void RequireEveryWrittenMember(OpenApiSchema schema, Type type)
    {
        var optional = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(property => property.GetCustomAttribute<JsonIgnoreAttribute>() is { Condition: not JsonIgnoreCondition.Never })
            .Select(property => JsonNamingPolicy.CamelCase.ConvertName(property.Name))
            .ToHashSet(StringComparer.Ordinal);
        schema.Required = new SortedSet<string>(schema.Properties!.Keys.Where(name => !optional.Contains(name)), StringComparer.Ordinal);
    }

    /// <summary>Required members of a request: they must be sent, and null is refused as their absence is.</summary>
    private static void Require(OpenApiSchema schema, params string[] names)
    {
        schema.Required = new SortedSet<string>(names, StringComparer.Ordinal);
        foreach (var name in names)
        {
            schema.Properties![name] = NotNull(schema.Properties[name]);
        }
    }

    private static IOpenApiSchema NotNull(IOpenApiSchema member)
    {
        if (member is not OpenApiSchema concrete)
        {
            return member;
        }
        concrete.Type &= ~JsonSchemaType.Null;
        if (concrete.Type == 0)
        {
            concrete.Type = null;
        }
        if (concrete.Items is OpenApiSchema items)
        {
            concrete.Items = NotNull(items);
        }
        return concrete;
    }

    private static void Layers(OpenApiSchema schema)
    {
        var layers = (OpenApiSchema)schema.Properties!["layers"];
        layers.MinItems = 1;
        layers.MaxItems = ModelValidator.MaxLayers;
        layers.Items = NotNull(layers.Items!);
    }

    private static void InputShape(OpenApiSchema schema)
    {
        var shape = (OpenApiSchema)schema.Properties!["inputShape"];
        shape.MinItems = 1;
        shape.MaxItems = ModelsApi.MaxRank;
        OpenApiBounds.Set((OpenApiSchema)shape.Items!, 1, false, null, false);
    }

    private static void Bound(OpenApiSchema schema, string name, double? minimum, double? maximum, bool exclusiveMinimum = false, bool exclusiveMaximum = false) =>
        OpenApiBounds.Set((OpenApiSchema)schema.Properties![name], minimum, exclusiveMinimum, maximum, exclusiveMaximum);

    private static void Length(OpenApiSchema schema, string name, int minimum, int maximum)
    {
        var member = (OpenApiSchema)schema.Properties![name];
        member.MinLength = minimum;
        member.MaxLength = maximum;
    }

    private static void Default(OpenApiSchema schema, string name, object value) =>
        ((OpenApiSchema)schema.Properties![name]).Default = JsonSerializer.SerializeToNode(value);

    private static void Values(OpenApiSchema schema, string name, IEnumerable<string> values) =>
        ((OpenApiSchema)schema.Properties![name]).Enum = values.Select(value => (JsonNode)JsonValue.Create(value)).ToList();
}

/// <summary>Ranges as OpenAPI writes them: <c>minimum</c>, and for an exclusive bound <c>exclusiveMinimum</c> (a flag in 3.0, the bound in 3.1).</summary>
internal static class OpenApiBounds
{
    public static void Set(OpenApiSchema schema, double? minimum, bool exclusiveMinimum, double? maximum, bool exclusiveMaximum)
    {
        if (minimum is { } low)
        {
            if (exclusiveMinimum)
            {
                schema.ExclusiveMinimum = Format(low);
            }
            else
            {
                schema.Minimum = Format(low);
            }
        }
        if (maximum is { } high)
        {
            if (exclusiveMaximum)
            {
                schema.ExclusiveMaximum = Format(high);
            }
            else
            {
                schema.Maximum = Format(high);
            }
        }
    }

    public static string Format(double number) => number.ToString("R", CultureInfo.InvariantCulture);
}
