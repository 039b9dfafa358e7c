using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace Experiments.Api;

/// <summary>
/// Turns requests that cannot even be read (malformed JSON, a string where a number belongs, a form value
/// of the wrong type) into a 400 problem-details answer that names the field, instead of a bare 400.
/// </summary>
internal sealed partial class BadRequestExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException bad)
        {
            return false;
        }
        var (field, message) = Describe(bad);
        context.Response.StatusCode = bad.StatusCode;
        var details = new ValidationProblemDetails(new Dictionary<string, string[]> { [field] = [message] })
        {
            Status = bad.StatusCode,
            Title = bad.StatusCode == StatusCodes.Status415UnsupportedMediaType ? "Unsupported content type." : "The request could not be read.",
        };
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = details, Exception = exception });
    }

    private static (string Field, string Message) Describe(BadHttpRequestException bad)
    {
        if (bad.InnerException is JsonException json)
        {
            var field = string.IsNullOrEmpty(json.Path) || json.Path == "$" ? "body" : json.Path.TrimStart('$', '.');
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

    private static string Friendly(string type) => type switch
    {
        _ when Has(type, "[]") || Has(type, "List") => "a list",
        _ when Has(type, "Int") || Has(type, "long") => "a whole number",
        _ when Has(type, "Double") || Has(type, "Single") || Has(type, "float") => "a number",
        _ when Has(type, "Bool") => "true or false",
        _ when Has(type, "Guid") => "an id (a GUID such as 3fa85f64-5717-4562-b3fc-2c963f66afa6)",
        _ when Has(type, "TrainingDevice") => "one of auto, cpu, cuda",
        _ when Has(type, "String") => "a string",
        _ => $"a value of type {type}",
    };

    private static bool Has(string type, string part) => type.Contains(part, StringComparison.OrdinalIgnoreCase);

    [GeneratedRegex(@"could not be converted to ([\w.`\[\]]+)")]
    private static partial Regex ExpectedType();

    [GeneratedRegex("Failed to bind parameter \"(.+?) (\\w+)\" from \"(.*)\"")]
    private static partial Regex FailedParameter();
}
