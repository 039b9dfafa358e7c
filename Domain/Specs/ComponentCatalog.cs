using System.Globalization;
using System.Text.Json;
using Experiments.Domain.Validation;

namespace Experiments.Domain.Specs;

public enum ParameterKind
{
    Integer,
    Number,
    Boolean,
    Text,
    IntegerList,
    NumberList,
}

/// <summary>One hyperparameter: its PyTorch name (camelCase), kind, default and allowed range.</summary>
public sealed record ParameterDefinition(
    string Name,
    ParameterKind Kind,
    string Description,
    object? Default = null,
    bool Required = false,
    double? Minimum = null,
    bool ExclusiveMinimum = false,
    double? Maximum = null,
    bool ExclusiveMaximum = false,
    IReadOnlyList<string>? AllowedValues = null,
    int? Length = null);

/// <summary>A layer, optimizer or loss type and the hyperparameters it accepts.</summary>
public sealed record ComponentDefinition(
    string Type,
    string Summary,
    IReadOnlyList<ParameterDefinition> Parameters,
    IReadOnlyDictionary<string, string>? Hints = null);

/// <summary>
/// The types of one family (layers, optimizers or losses). Checks a spec by name, fills in PyTorch's
/// defaults and answers unknown names with the valid ones listed.
/// </summary>
public sealed class ComponentCatalog
{
    private readonly Dictionary<string, ComponentDefinition> _definitions;

    public ComponentCatalog(string family, IEnumerable<ComponentDefinition> definitions)
    {
        Family = family;
        _definitions = definitions.ToDictionary(definition => definition.Type, StringComparer.Ordinal);
    }

    /// <summary>"layer", "optimizer", "loss": used in messages.</summary>
    public string Family { get; }

    public IReadOnlyCollection<ComponentDefinition> Definitions => _definitions.Values;

    public bool Contains(string type) => _definitions.ContainsKey(type);

    public ComponentDefinition this[string type] => _definitions[type];

    /// <summary>
    /// Returns the spec with every hyperparameter present (defaults filled in), or null with the
    /// problems added to <paramref name="errors"/> under <paramref name="path"/>.
    /// </summary>
    public T? Resolve<T>(T? spec, string path, ValidationErrors errors) where T : ComponentSpec
    {
        if (spec is null)
        {
            errors.Add(path, $"is required: give an object such as {{\"type\": \"{_definitions.Keys.First()}\"}}.");
            return null;
        }
        if (string.IsNullOrWhiteSpace(spec.Type))
        {
            errors.Add($"{path}.type", $"is required; one of: {KnownTypes()}.");
            return null;
        }
        if (!_definitions.TryGetValue(spec.Type, out var definition))
        {
            var nearly = _definitions.Keys.FirstOrDefault(known => string.Equals(known, spec.Type, StringComparison.OrdinalIgnoreCase));
            var suggestion = nearly is null ? "" : $" Did you mean '{nearly}'?";
            errors.Add($"{path}.type", $"'{spec.Type}' is not a known {Family} type.{suggestion} Known types: {KnownTypes()}.");
            return null;
        }

        var problems = new ValidationErrors();
        var refused = new HashSet<string>(StringComparer.Ordinal);
        var resolved = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var (name, value) in spec.Parameters)
        {
            var parameter = definition.Parameters.FirstOrDefault(p => p.Name == name);
            if (parameter is null)
            {
                var hint = definition.Hints is not null && definition.Hints.TryGetValue(name, out var known) ? $" {known}" : "";
                var valid = definition.Parameters.Count == 0
                    ? $"{spec.Type} takes no hyperparameters"
                    : $"valid hyperparameters of {spec.Type}: {string.Join(", ", definition.Parameters.Select(p => p.Name))}";
                problems.Add($"{path}.{name}", $"{spec.Type} has no '{name}'.{hint} {Capitalize(valid)}.");
                continue;
            }
            if (value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }
            var problem = Check(parameter, value);
            if (problem is not null)
            {
                problems.Add($"{path}.{name}", problem);
                refused.Add(name);
                continue;
            }
            resolved[name] = value;
        }
        foreach (var parameter in definition.Parameters)
        {
            if (resolved.ContainsKey(parameter.Name) || refused.Contains(parameter.Name))
            {
                continue;
            }
            if (parameter.Required)
            {
                problems.Add($"{path}.{parameter.Name}", $"is required by {spec.Type}: {parameter.Description}");
                continue;
            }
            resolved[parameter.Name] = JsonSerializer.SerializeToElement(parameter.Default);
        }
        errors.AddRange(problems);
        return problems.IsEmpty ? spec with { Parameters = resolved } : null;
    }

    private string KnownTypes() => string.Join(", ", _definitions.Keys);

    private static string Capitalize(string text) => char.ToUpperInvariant(text[0]) + text[1..];

    private static string? Check(ParameterDefinition parameter, JsonElement value)
    {
        switch (parameter.Kind)
        {
            case ParameterKind.Integer:
                if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var integer))
                {
                    return $"must be a whole number; got {value.GetRawText()}.";
                }
                return CheckRange(parameter, integer);
            case ParameterKind.Number:
                if (value.ValueKind != JsonValueKind.Number)
                {
                    return $"must be a number; got {value.GetRawText()}.";
                }
                return CheckRange(parameter, value.GetDouble());
            case ParameterKind.Boolean:
                return value.ValueKind is JsonValueKind.True or JsonValueKind.False
                    ? null
                    : $"must be true or false; got {value.GetRawText()}.";
            case ParameterKind.Text:
                if (value.ValueKind != JsonValueKind.String)
                {
                    return $"must be a string; got {value.GetRawText()}.";
                }
                return parameter.AllowedValues is null || parameter.AllowedValues.Contains(value.GetString()!)
                    ? null
                    : $"'{value.GetString()}' is not allowed; use one of: {string.Join(", ", parameter.AllowedValues)}.";
            case ParameterKind.IntegerList:
            case ParameterKind.NumberList:
                if (value.ValueKind != JsonValueKind.Array)
                {
                    return $"must be a list of numbers such as {JsonSerializer.Serialize(parameter.Default)}; got {value.GetRawText()}.";
                }
                var items = value.EnumerateArray().ToList();
                if (parameter.Length is { } length && items.Count != length)
                {
                    return $"must have exactly {length} numbers; got {items.Count}.";
                }
                foreach (var item in items)
                {
                    var isWhole = item.ValueKind == JsonValueKind.Number && item.TryGetInt64(out _);
                    if (item.ValueKind != JsonValueKind.Number || (parameter.Kind == ParameterKind.IntegerList && !isWhole))
                    {
                        return $"must hold only {(parameter.Kind == ParameterKind.IntegerList ? "whole numbers" : "numbers")}; got {item.GetRawText()}.";
                    }
                    var problem = CheckRange(parameter, item.GetDouble());
                    if (problem is not null)
                    {
                        return problem;
                    }
                }
                return null;
            default:
                throw new InvalidOperationException($"Unhandled parameter kind {parameter.Kind}.");
        }
    }

    private static string? CheckRange(ParameterDefinition parameter, double number)
    {
        var text = number.ToString(CultureInfo.InvariantCulture);
        if (parameter.Minimum is { } minimum && (parameter.ExclusiveMinimum ? number <= minimum : number < minimum))
        {
            return $"must be {(parameter.ExclusiveMinimum ? "greater than" : "at least")} {minimum.ToString(CultureInfo.InvariantCulture)}; got {text}.";
        }
        if (parameter.Maximum is { } maximum && (parameter.ExclusiveMaximum ? number >= maximum : number > maximum))
        {
            return $"must be {(parameter.ExclusiveMaximum ? "less than" : "at most")} {maximum.ToString(CultureInfo.InvariantCulture)}; got {text}.";
        }
        return null;
    }
}
