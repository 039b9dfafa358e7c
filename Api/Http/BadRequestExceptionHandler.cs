using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Text.RegularExpressions;
using Experiments.Domain.Models;
using Experiments.Domain.Runs;
using Experiments.Domain.Validation;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using HttpJsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;

namespace Experiments.Api;

/// <summary>
/// Turns requests that cannot even be read (malformed JSON, a string where a number belongs, a member the body does
/// not define, a form value of the wrong type) into a 400 problem-details answer that names the field, instead of a
/// bare 400. The field's path is followed through the endpoint's body type, so an unknown member is answered with the
/// valid ones and the nearest, and an enum with its values.
/// </summary>
internal sealed partial class BadRequestExceptionHandler(IProblemDetailsService problems, IOptions<HttpJsonOptions> json) : IExceptionHandler
{
    /// <summary>What each request body is, for "is not a field of a run".</summary>
    private static readonly Dictionary<Type, string> Bodies = new()
    {
        [typeof(RunSpec)] = "a run",
        [typeof(CreateModelRequest)] = "a model",
        [typeof(ValidateModelRequest)] = "a model to validate",
        [typeof(EvaluateRequest)] = "an evaluation",
        [typeof(PredictRequest)] = "a prediction",
    };

    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        // A JSON body in a charset .NET does not know is not a BadHttpRequestException: the body reader throws an
        // InvalidOperationException that would otherwise be a 500.
        if (exception is InvalidOperationException && UnknownCharset(context.Request) is { } charset)
        {
            return await WriteAsync(context, exception, StatusCodes.Status415UnsupportedMediaType, "Content-Type",
                $"charset '{charset}' is not a known encoding: send the body as UTF-8 (Content-Type: application/json; charset=utf-8).");
        }
        if (exception is not BadHttpRequestException bad)
        {
            return false;
        }
        // The exception handler middleware clears the endpoint before handlers run; its feature keeps the one that failed.
        var endpoint = context.Features.Get<IExceptionHandlerFeature>()?.Endpoint ?? context.GetEndpoint();
        var (field, message) = Describe(bad, endpoint?.Metadata.GetMetadata<IAcceptsMetadata>()?.RequestType);
        return await WriteAsync(context, exception, bad.StatusCode, field, message);
    }

    private async ValueTask<bool> WriteAsync(HttpContext context, Exception exception, int status, string field, string message)
    {
        context.Response.StatusCode = status;
        var details = new ValidationProblemDetails(new Dictionary<string, string[]> { [field] = [message] })
        {
            Status = status,
            Title = status == StatusCodes.Status415UnsupportedMediaType ? "Unsupported content type." : "The request could not be read.",
        };
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = details, Exception = exception });
    }

    /// <summary>The request's Content-Type charset when it names no encoding this process has, else null.</summary>
    private static string? UnknownCharset(HttpRequest request)
    {
        if (!Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType)
            || mediaType.Charset.Value is not { Length: > 0 } charset)
        {
            return null;
        }
        try
        {
            _ = System.Text.Encoding.GetEncoding(charset.Trim('"'));
            return null;
        }
        catch (ArgumentException)
        {
            return charset;
        }
    }

    private (string Field, string Message) Describe(BadHttpRequestException bad, Type? body)
    {
        if (bad.InnerException is JsonException json)
        {
            var field = string.IsNullOrEmpty(json.Path) || json.Path == "$" ? "body" : json.Path.TrimStart('$', '.');
            var path = Segments(json.Path);
            if (UnmappedMember().Match(json.Message) is { Success: true } unmapped)
            {
                var owner = Follow(body, path.SkipLast(1));
                var fields = owner?.Properties.Where(property => property.Set is not null || property.AssociatedParameter is not null)
                    .Select(property => property.Name).ToList() ?? [];
                var noun = owner is null ? "this request" : Bodies.GetValueOrDefault(owner.Type, $"a {owner.Type.Name}");
                return (field, NearestName.NotOneOf(unmapped.Groups[1].Value, "field", noun, fields));
            }
            if (Follow(body, path) is { } target && (Nullable.GetUnderlyingType(target.Type) ?? target.Type) is { IsEnum: true } enumType)
            {
                return (field, $"must be one of {string.Join(", ", Enum.GetNames(enumType).Select(JsonNamingPolicy.CamelCase.ConvertName))}.");
            }
            var expected = ExpectedType().Match(json.Message) is { Success: true } match ? Friendly(match.Groups[1].Value) : null;
            return (field, expected is null
                ? $"is not valid JSON here: {json.Message.Split(" Path:", 2)[0]}"
                : $"must be {expected}.");
        }
        if (bad.Message.Contains("IFormFile", StringComparison.Ordinal))
        {
            return ("file", "is required: send the dataset as multipart/form-data with a field named 'file' (curl -F file=@samples/iris.csv ...).");
        }
        var parameter = FailedParameter().Match(bad.Message);
        if (parameter.Success)
        {
            return (parameter.Groups[2].Value, $"'{parameter.Groups[3].Value}' cannot be read as {Friendly(parameter.Groups[1].Value)}.");
        }
        return (bad.StatusCode == StatusCodes.Status415UnsupportedMediaType ? "Content-Type" : "body", bad.Message);
    }

    /// <summary>The type at a JSON path (<c>$.layers[2].type</c>) inside the body type, or null when the path leaves the types known.</summary>
    private JsonTypeInfo? Follow(Type? body, IEnumerable<object> path)
    {
        if (body is null)
        {
            return null;
        }
        var options = json.Value.SerializerOptions;
        var info = options.GetTypeInfo(body);
        foreach (var segment in path)
        {
            var next = segment switch
            {
                int when info.Kind == JsonTypeInfoKind.Enumerable => info.ElementType,
                string name when info.Kind == JsonTypeInfoKind.Object => info.Properties.FirstOrDefault(property => property.Name == name)?.PropertyType,
                // A key of a dictionary (a sweep's parameters by path) leads to its values' type.
                string when info.Kind == JsonTypeInfoKind.Dictionary => info.ElementType,
                _ => null,
            };
            if (next is null)
            {
                return null;
            }
            info = options.GetTypeInfo(Nullable.GetUnderlyingType(next) ?? next);
        }
        return info;
    }

    /// <summary>A JSON path as System.Text.Json writes it (<c>$.a[0]['b c']</c>): member names and indexes.</summary>
    private static List<object> Segments(string? path)
    {
        var segments = new List<object>();
        foreach (Match segment in PathSegment().Matches(path ?? ""))
        {
            segments.Add(segment.Groups["index"].Success
                ? int.Parse(segment.Groups["index"].Value, System.Globalization.CultureInfo.InvariantCulture)
                : segment.Groups["quoted"].Success ? segment.Groups["quoted"].Value : segment.Groups["name"].Value);
        }
        return segments;
    }

    private static string Friendly(string type) => type switch
    {
        _ when Has(type, "[]") || Has(type, "List") => "a list",
        _ when Has(type, "Int") || Has(type, "long") => "a whole number",
        _ when Has(type, "Double") || Has(type, "Single") || Has(type, "float") => "a number",
        _ when Has(type, "Bool") => "true or false",
        _ when Has(type, "Guid") => "an id (a GUID such as 3fa85f64-5717-4562-b3fc-2c963f66afa6)",
        _ when Has(type, "String") => "a string",
        _ => $"a value of type {type}",
    };

    private static bool Has(string type, string part) => type.Contains(part, StringComparison.OrdinalIgnoreCase);

    [GeneratedRegex(@"could not be converted to ([\w.`\[\]]+)")]
    private static partial Regex ExpectedType();

    [GeneratedRegex("^The JSON property '(.*)' could not be mapped to any .NET member", RegexOptions.Singleline)]
    private static partial Regex UnmappedMember();

    [GeneratedRegex(@"\.(?<name>[^.\[]+)|\['(?<quoted>(?:[^']|'(?!\]))*)'\]|\[(?<index>\d+)\]")]
    private static partial Regex PathSegment();

    [GeneratedRegex("Failed to bind parameter \"(.+?) (\\w+)\" from \"(.*)\"")]
    private static partial Regex FailedParameter();
}
