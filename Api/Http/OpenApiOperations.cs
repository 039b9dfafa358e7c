using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Experiments.Api;

/// <summary>
/// The values, range and default of one query parameter, attached to an endpoint where it is mapped so that the
/// OpenAPI document states what the handler checks (<see cref="OpenApiOperationFilter"/>). Built from the constants the
/// handler uses.
/// </summary>
public sealed record QueryParameterDescription(string Name, IReadOnlyList<string>? Values = null, int? Minimum = null, int? Maximum = null, JsonNode? Default = null);

public static class QueryParameterDescriptions
{
    public static TBuilder DescribesQuery<TBuilder>(this TBuilder builder, string name, IEnumerable<string>? values = null, int? minimum = null, int? maximum = null, object? defaultValue = null)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new QueryParameterDescription(name, values?.ToList(), minimum, maximum, defaultValue is null ? null : System.Text.Json.JsonSerializer.SerializeToNode(defaultValue)));

    /// <summary><c>page</c> from 1 and <c>pageSize</c> from 1 to <see cref="Paging.MaxPageSize"/> (larger sizes are clamped to it).</summary>
    public static TBuilder Paged<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder => builder
        .DescribesQuery("page", minimum: 1, defaultValue: 1)
        .DescribesQuery("pageSize", minimum: 1, maximum: Paging.MaxPageSize, defaultValue: Paging.DefaultPageSize);
}

/// <summary>
/// Completes each operation from its endpoint's metadata: query parameters' values and ranges, problem details
/// (<c>application/problem+json</c>) for every error answer, including the 400 for an unknown query parameter and
/// the 400 and 415 for an unreadable JSON body, binary downloads, and who may call it: operations whose endpoint
/// allows anonymous callers have <c>security: []</c>, the others the document's API-key requirement and 401, 403 and 429.
/// </summary>
internal sealed class OpenApiOperationFilter : IOperationFilter
{
    public const string ProblemJson = "application/problem+json";

    private const string InvalidRequest = "The request is not valid: a field or query parameter is named in `errors` with the fix.";

    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var metadata = context.ApiDescription.ActionDescriptor.EndpointMetadata;
        // A request body is written allOf: [$ref] like a member (UseAllOfToExtendReferenceSchemas); it cannot be null.
        foreach (var media in operation.RequestBody?.Content?.Values ?? [])
        {
            if (media.Schema is OpenApiSchema { AllOf: [OpenApiSchemaReference reference] })
            {
                media.Schema = reference;
            }
        }
        DescribeQuery(operation, metadata.OfType<QueryParameterDescription>().ToList());
        operation.Responses ??= [];
        if (metadata.OfType<QueryParametersChecked>().Any())
        {
            AddProblem(operation, context.SchemaGenerator, context.SchemaRepository, StatusCodes.Status400BadRequest, InvalidRequest, validation: true);
        }
        if (operation.RequestBody?.Content?.ContainsKey("application/json") == true)
        {
            AddProblem(operation, context.SchemaGenerator, context.SchemaRepository, StatusCodes.Status400BadRequest, InvalidRequest, validation: true);
            AddProblem(operation, context.SchemaGenerator, context.SchemaRepository, StatusCodes.Status415UnsupportedMediaType, "The body is not JSON, or not in a charset .NET knows: send application/json in UTF-8.", validation: true);
        }
        DescribeSecurity(operation, metadata, context.SchemaGenerator, context.SchemaRepository);
        foreach (var (code, response) in operation.Responses)
        {
            if (response is OpenApiResponse concrete && int.TryParse(code, NumberStyles.None, CultureInfo.InvariantCulture, out var status))
            {
                Complete(concrete, status, context);
            }
        }
    }

    private static void DescribeQuery(OpenApiOperation operation, IReadOnlyList<QueryParameterDescription> descriptions)
    {
        foreach (var parameter in operation.Parameters?.OfType<OpenApiParameter>().Where(parameter => parameter.In == ParameterLocation.Query) ?? [])
        {
            var description = descriptions.FirstOrDefault(d => d.Name == parameter.Name);
            if (description is null || parameter.Schema is not OpenApiSchema schema)
            {
                continue;
            }
            if (description.Values is { } values)
            {
                schema.Type = JsonSchemaType.String;
                schema.Enum = values.Select(value => (JsonNode)JsonValue.Create(value)).ToList();
            }
            OpenApiBounds.Set(schema, description.Minimum, false, description.Maximum, false);
            schema.Default = description.Default?.DeepClone();
        }
    }

    /// <summary>Error answers are problem details; a download without a schema is binary.</summary>
    private static void Complete(OpenApiResponse response, int status, OperationFilterContext context)
    {
        if (status >= 400 && response.Content is { Count: > 0 } content && !content.ContainsKey(ProblemJson))
        {
            var media = content.Values.First();
            content.Clear();
            content[ProblemJson] = media;
        }
        foreach (var (type, media) in response.Content ?? new Dictionary<string, OpenApiMediaType>())
        {
            if (type == "application/octet-stream")
            {
                media.Schema ??= new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" };
                response.Headers ??= new Dictionary<string, IOpenApiHeader>();
                response.Headers["Content-Disposition"] = new OpenApiHeader
                {
                    Description = "attachment, with the file name to save it as.",
                    Schema = new OpenApiSchema { Type = JsonSchemaType.String },
                };
            }
        }
        if (status >= 400 && response.Content is null or { Count: 0 })
        {
            response.Content = new Dictionary<string, OpenApiMediaType>
            {
                [ProblemJson] = new() { Schema = context.SchemaGenerator.GenerateSchema(typeof(ProblemDetails), context.SchemaRepository) },
            };
        }
    }

    /// <summary>
    /// <c>security: []</c> where the endpoint allows anonymous callers; elsewhere the document's requirement applies,
    /// and the 401, 403 and 429 (failed key checks, or a key's changes rate-limited) it may answer are listed.
    /// </summary>
    public static void DescribeSecurity(OpenApiOperation operation, IEnumerable<object> metadata, ISchemaGenerator schemas, SchemaRepository repository)
    {
        if (metadata.OfType<IAllowAnonymous>().Any())
        {
            operation.Security = [];
            return;
        }
        operation.Responses ??= [];
        AddProblem(operation, schemas, repository, StatusCodes.Status401Unauthorized, "No valid API key was sent: send `Authorization: Bearer <key>` or `X-Api-Key: <key>`.", validation: false);
        AddProblem(operation, schemas, repository, StatusCodes.Status403Forbidden, "The API key's role may not do this.", validation: false);
        AddProblem(operation, schemas, repository, StatusCodes.Status429TooManyRequests, "Too many failed key checks from this address, or too many changes by this key: wait, then send it again.", validation: false);
        if (operation.Responses["429"] is OpenApiResponse tooMany)
        {
            tooMany.Headers ??= new Dictionary<string, IOpenApiHeader>();
            tooMany.Headers["Retry-After"] = new OpenApiHeader
            {
                Description = "Seconds to wait before sending it again.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32" },
            };
        }
    }

    private static void AddProblem(OpenApiOperation operation, ISchemaGenerator schemas, SchemaRepository repository, int status, string description, bool validation)
    {
        var code = status.ToString(CultureInfo.InvariantCulture);
        if (operation.Responses!.ContainsKey(code))
        {
            return;
        }
        var type = validation ? typeof(HttpValidationProblemDetails) : typeof(ProblemDetails);
        operation.Responses[code] = new OpenApiResponse
        {
            Description = description,
            Content = new Dictionary<string, OpenApiMediaType>
            {
                [ProblemJson] = new() { Schema = schemas.GenerateSchema(type, repository) },
            },
        };
    }
}

/// <summary>The document's security scheme names and a description of each tag.</summary>
internal sealed class ApiDocumentFilter : IDocumentFilter
{
    public const string BearerScheme = "bearer";
    public const string ApiKeyScheme = "apiKey";
    public const string ApiKeyHeader = "X-Api-Key";

    public void Apply(OpenApiDocument document, DocumentFilterContext context)
    {
        document.Tags = new HashSet<OpenApiTag>
        {
            new() { Name = "Datasets", Description = "Import datasets from CSV, NumPy, pickle or IDX files, describe, preview and delete them." },
            new() { Name = "Models", Description = "Layer stacks named as in torch.nn, checked against a sample shape; versions, templates." },
            new() { Name = "Runs", Description = "Train a model on a dataset, follow it, cancel it, evaluate, predict and download its weights." },
            new() { Name = "Health", Description = "Liveness and readiness of the database, Hangfire and TorchSharp." },
            new() { Name = "Access", Description = "API keys with roles (viewer, editor, admin) and the audit log; for admins." },
        };
    }
}
