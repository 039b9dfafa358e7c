using System.Text.Json;
using System.Text.Json.Serialization;

namespace Experiments.Domain;

/// <summary>
/// The JSON the service speaks, on top of the web defaults (camelCase): enums as camelCase strings, and NaN or
/// Infinity written as named literals. The API configures its serializer with it and the dashboard's HTTP client reads
/// the API's answers with it.
/// </summary>
public static class JsonConventions
{
    public static JsonSerializerOptions Apply(JsonSerializerOptions options) => Apply(options, allowIntegerEnums: true);

    /// <summary>
    /// The conventions for the request bodies the service reads, stricter than for reading its own JSON: a member the
    /// type does not define is refused rather than skipped, member names match in their exact case (as query
    /// parameters, form fields and hyperparameters do), and an enum is one of its names, never a number. Only for
    /// request bodies: JSON columns stored by older versions and the dashboard's reads of the API's answers stay
    /// lenient (docs/decisions/009).
    /// </summary>
    public static JsonSerializerOptions ApplyToRequests(JsonSerializerOptions options)
    {
        Apply(options, allowIntegerEnums: false);
        options.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        options.PropertyNameCaseInsensitive = false;
        return options;
    }

    /// <summary>Web defaults with these conventions.</summary>
    public static JsonSerializerOptions Web { get; } = Apply(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    private static JsonSerializerOptions Apply(JsonSerializerOptions options, bool allowIntegerEnums)
    {
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerEnums));
        options.NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals;
        return options;
    }
}
