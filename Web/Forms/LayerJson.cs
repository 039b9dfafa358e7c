using System.Globalization;
using System.Text.Json;
using Experiments.Domain;
using Experiments.Domain.Models;
using Experiments.Domain.Specs;

namespace Experiments.Web.Forms;

/// <summary>The model editor's text: a JSON list of layers, read and written one layer per line.</summary>
public static class LayerJson
{
    /// <summary>The layers, or where the text stops being a JSON list of layer objects.</summary>
    public static (IReadOnlyList<LayerSpec?>? Layers, string? Error) Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return (null, "Write the layers as a JSON list, e.g. [{\"type\": \"linear\", \"outFeatures\": 3}].");
        }
        try
        {
            var layers = JsonSerializer.Deserialize<List<LayerSpec?>>(text, JsonConventions.Web);
            return layers is null ? (null, "The layers must be a JSON list ([...]), not null.") : (layers, null);
        }
        catch (JsonException exception)
        {
            var where = exception.LineNumber is { } line
                ? $"Line {(line + 1).ToString(CultureInfo.InvariantCulture)}, column {((exception.BytePositionInLine ?? 0) + 1).ToString(CultureInfo.InvariantCulture)}: "
                : "";
            return (null, where + FirstSentence(exception.Message));
        }
    }

    /// <summary>A list with one layer per line: easy to read, and easy to edit line by line.</summary>
    public static string Write(IEnumerable<LayerSpec> layers)
    {
        var lines = layers.Select(layer => "  " + JsonSerializer.Serialize(layer, JsonConventions.Web)).ToList();
        return lines.Count == 0 ? "[]" : $"[\n{string.Join(",\n", lines)}\n]";
    }

    /// <summary>A new layer of <paramref name="definition"/>'s type with its optional hyperparameters at their defaults.</summary>
    public static LayerSpec Template(ComponentDefinition definition) => new(definition.Type, definition.Parameters
        .Where(parameter => !parameter.Required && parameter.Default is not null)
        .ToDictionary(parameter => parameter.Name, parameter => JsonSerializer.SerializeToElement(parameter.Default)));

    /// <summary>The layer a field path points at: <c>layers[3].outFeatures</c> → 3; null for other fields.</summary>
    public static int? LayerIndex(string field)
    {
        if (!field.StartsWith("layers[", StringComparison.Ordinal))
        {
            return null;
        }
        var end = field.IndexOf(']', StringComparison.Ordinal);
        return end > 7 && int.TryParse(field.AsSpan(7, end - 7), NumberStyles.None, CultureInfo.InvariantCulture, out var index) ? index : null;
    }

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }
}
