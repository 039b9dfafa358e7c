using System.Text.Json;
using Experiments.Domain;
using Experiments.Domain.Runs;

namespace Experiments.Web.Runs;

/// <summary>One setting across the compared runs; <see cref="Differs"/> when the runs do not all agree.</summary>
public sealed record SpecRow(string Setting, IReadOnlyList<string> Values)
{
    public bool Differs => Values.Distinct(StringComparer.Ordinal).Skip(1).Any();
}

/// <summary>
/// The resolved specs of several runs side by side: one row per setting (<c>optimizer.lr</c>, <c>batchSize</c>...),
/// in the order the first run lists them, with settings only some runs have shown as "–" for the others.
/// </summary>
public static class SpecTable
{
    public const string Missing = "–";

    public static IReadOnlyList<SpecRow> Build(IReadOnlyList<RunView> runs)
    {
        var flattened = runs.Select(Flatten).ToList();
        var settings = flattened.SelectMany(values => values.Keys).Distinct(StringComparer.Ordinal).ToList();
        return [.. settings.Select(setting => new SpecRow(setting,
            [.. flattened.Select(values => values.TryGetValue(setting, out var value) ? value : Missing)]))];
    }

    /// <summary>Setting → value as text: dataset and model by name, components as <c>optimizer</c> and <c>optimizer.lr</c>.</summary>
    public static Dictionary<string, string> Flatten(RunView run)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["dataset"] = run.DatasetName,
            ["model"] = $"{run.ModelName} v{run.ModelVersion}",
        };
        var spec = JsonSerializer.SerializeToElement(run.Spec, JsonConventions.Web);
        foreach (var property in spec.EnumerateObject())
        {
            if (property.Name is "datasetId" or "modelId")
            {
                continue;
            }
            if (property.Value.ValueKind == JsonValueKind.Object)
            {
                foreach (var parameter in property.Value.EnumerateObject())
                {
                    var key = parameter.Name == "type" ? property.Name : $"{property.Name}.{parameter.Name}";
                    values[key] = Text(parameter.Value);
                }
                continue;
            }
            values[property.Name] = Text(property.Value);
        }
        return values;
    }

    private static string Text(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Null or JsonValueKind.Undefined => Missing,
        JsonValueKind.String => value.GetString()!,
        _ => value.GetRawText(),
    };
}
