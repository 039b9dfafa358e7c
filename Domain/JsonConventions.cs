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
    public static JsonSerializerOptions Apply(JsonSerializerOptions options)
    {
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        options.NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals;
        return options;
    }

    /// <summary>Web defaults with these conventions.</summary>
    public static JsonSerializerOptions Web { get; } = Apply(new JsonSerializerOptions(JsonSerializerDefaults.Web));
}
