using System.Text.Json.Nodes;
using Experiments.Domain.Losses;
using Experiments.Domain.Models;
using Experiments.Domain.Optimizers;
using Experiments.Domain.Runs;
using Experiments.Domain.Schedulers;
using Experiments.Domain.Specs;
using Experiments.Domain.Validation;

namespace Experiments.Domain.Sweeps;

/// <summary>
/// A field of a run spec (or of its model's layers) named by path: <c>optimizer.lr</c>, <c>batchSize</c>,
/// <c>layers[2].outFeatures</c>. A path is a field of the run spec, then names and indexes; it is parsed once, without
/// recursion, and bounded in length and depth.
/// </summary>
public sealed class SpecPath
{
    public const int MaxLength = 200;
    public const int MaxSegments = 16;

    /// <summary>The trial document's field that holds the model's layers.</summary>
    public const string Layers = "layers";

    private SpecPath(string text, IReadOnlyList<object> segments)
    {
        Text = text;
        Segments = segments;
    }

    public string Text { get; }

    /// <summary>Each a property name (string) or an array index (int).</summary>
    public IReadOnlyList<object> Segments { get; }

    public string Root => (string)Segments[0];

    public bool IsLayers => Root == Layers;

    /// <summary>The run spec's fields a sweep may search: every one but the dataset (trials on other data would not compare).</summary>
    public static IReadOnlyList<string> SearchableFields { get; } = typeof(RunSpec).GetProperties()
        .Select(property => System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(property.Name))
        .Where(name => name != "datasetId")
        .Append(Layers)
        .ToArray();

    private static readonly HashSet<string> ComponentFields = ["optimizer", "loss", "scheduler", "watch"];

    /// <summary>The path, or null with the problem.</summary>
    public static SpecPath? Parse(string text, out string? problem)
    {
        problem = null;
        if (string.IsNullOrEmpty(text) || text.Length > MaxLength)
        {
            problem = $"a path is 1 to {MaxLength} characters, e.g. optimizer.lr or layers[2].outFeatures.";
            return null;
        }
        var segments = new List<object>();
        var position = 0;
        while (position < text.Length)
        {
            if (segments.Count == MaxSegments)
            {
                problem = $"a path has at most {MaxSegments} parts.";
                return null;
            }
            if (text[position] == '[')
            {
                var close = text.IndexOf(']', position);
                if (segments.Count == 0 || close < 0 || !int.TryParse(text.AsSpan(position + 1, close - position - 1), System.Globalization.NumberStyles.None,
                    System.Globalization.CultureInfo.InvariantCulture, out var index))
                {
                    problem = $"'{text}' is not a path: an index is written [0] after a name, e.g. layers[2].outFeatures.";
                    return null;
                }
                segments.Add(index);
                position = close + 1;
            }
            else
            {
                if (segments.Count > 0)
                {
                    if (text[position] != '.')
                    {
                        problem = $"'{text}' is not a path: parts are joined by '.', e.g. optimizer.lr.";
                        return null;
                    }
                    position++;
                }
                var start = position;
                while (position < text.Length && (char.IsAsciiLetterOrDigit(text[position]) || text[position] == '_'))
                {
                    position++;
                }
                if (position == start || char.IsAsciiDigit(text[start]))
                {
                    problem = $"'{text}' is not a path: each part is a name such as lr, or an index such as [2].";
                    return null;
                }
                segments.Add(text[start..position]);
            }
        }
        var root = segments[0] as string;
        if (root is null || !SearchableFields.Contains(root))
        {
            problem = root == "datasetId"
                ? "a sweep searches one dataset (trials on other data would not compare); run a sweep per dataset."
                : $"'{root}' is not a field of a run spec.{NearestName.Hint(root ?? "", SearchableFields)} Searchable: {string.Join(", ", SearchableFields)}.";
            return null;
        }
        if (root == Layers && (segments.Count < 2 || segments[1] is not int))
        {
            problem = $"'{text}': a layer is named by its index, e.g. layers[2] or layers[2].outFeatures.";
            return null;
        }
        if (root != Layers && segments.Count > 1 && (!ComponentFields.Contains(root) || segments.Count > 2 || segments[1] is not string))
        {
            problem = ComponentFields.Contains(root)
                ? $"'{text}': {root} is searched whole ({root}) or by one hyperparameter ({root}.name)."
                : $"'{text}': {root} is a single value, it has no parts; search '{root}' itself.";
            return null;
        }
        return new SpecPath(text, segments);
    }

    /// <summary>
    /// Sets the field in <paramref name="document"/> (a run spec as JSON, with the model's layers under <c>layers</c>); answers
    /// the problem when the path names nothing there. Setting a component's <c>type</c> starts it afresh with the new type,
    /// keeping the hyperparameters it was given that the new type has too.
    /// </summary>
    public string? Set(JsonObject document, JsonNode? value)
    {
        JsonNode parent = document;
        for (var i = 0; i < Segments.Count - 1; i++)
        {
            var next = Child(parent, Segments[i]);
            if (next is null)
            {
                return Missing(i);
            }
            parent = next;
        }
        var last = Segments[^1];
        if (last is int index)
        {
            if (parent is not JsonArray array || index >= array.Count)
            {
                return Missing(Segments.Count - 1);
            }
            array[index] = value;
            return null;
        }
        if (parent is not JsonObject owner)
        {
            return $"'{Text}': {Prefix(Segments.Count - 1)} holds no fields.";
        }
        var name = (string)last;
        if (name == "type" && value is JsonValue typeValue && typeValue.TryGetValue<string>(out var type) && CatalogOf() is { } catalog)
        {
            if (!catalog.Contains(type))
            {
                var types = catalog.Definitions.Select(definition => definition.Type).ToList();
                return $"'{type}' is not a {catalog.Family} type.{NearestName.Hint(type, types)} Known types: {string.Join(", ", types)}.";
            }
            var accepted = catalog[type].Parameters.Select(parameter => parameter.Name).ToHashSet(StringComparer.Ordinal);
            foreach (var kept in owner.Select(pair => pair.Key).ToList())
            {
                if (kept != "type" && !accepted.Contains(kept))
                {
                    owner.Remove(kept);
                }
            }
        }
        owner[name] = value;
        return null;
    }

    /// <summary>The value at the path in <paramref name="document"/>, or null when there is none.</summary>
    public JsonNode? Get(JsonObject document)
    {
        JsonNode? node = document;
        foreach (var segment in Segments)
        {
            node = node is null ? null : Child(node, segment);
        }
        return node;
    }

    private ComponentCatalog? CatalogOf() => Segments.Count switch
    {
        2 => Root switch
        {
            "optimizer" => OptimizerCatalog.Instance,
            "loss" => LossCatalog.Instance,
            "scheduler" => SchedulerCatalog.Instance,
            _ => null,
        },
        _ when IsLayers => LayerCatalog.Instance,
        _ => null,
    };

    private static JsonNode? Child(JsonNode parent, object segment) => segment switch
    {
        string name when parent is JsonObject owner => owner[name],
        int index when parent is JsonArray array && index < array.Count => array[index],
        _ => null,
    };

    private string Missing(int depth) => Segments[depth] is int index && depth > 0
        ? $"'{Text}': {Prefix(depth)} has no item [{index}]{(IsLayers && depth == 1 ? " (the model's layers count from [0])" : "")}."
        : $"'{Text}': the base spec has no {Prefix(depth + 1)}; set it in the base, or search '{Prefix(depth + 1)}' as a whole.";

    private string Prefix(int count)
    {
        var text = new System.Text.StringBuilder();
        for (var i = 0; i < count; i++)
        {
            text.Append(Segments[i] switch { int index => $"[{index}]", var name => i == 0 ? $"{name}" : $".{name}" });
        }
        return text.ToString();
    }

    public override string ToString() => Text;
}
