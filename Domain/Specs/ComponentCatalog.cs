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

    /// <summary>A whole number, or a list of <see cref="ParameterDefinition.Length"/> whole numbers (<c>3</c> or <c>[3, 5]</c>), as PyTorch's kernel sizes.</summary>
    IntegerOrList,

    /// <summary>A list of layers (a residual block's sub-stack); checked by the model validator.</summary>
    Layers,
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

/// <summary>
/// A check across hyperparameters that runs once each one is valid on its own; answers the problem, or null.
/// E.g. sgd's nesterov needs momentum &gt; 0 and dampening 0.
/// </summary>
public sealed record ParameterRule(string Parameter, Func<ComponentSpec, string?> Problem);

/// <summary>A layer, optimizer, loss or scheduler type and the hyperparameters it accepts.</summary>
public sealed record ComponentDefinition(
    string Type,
    string Summary,
    IReadOnlyList<ParameterDefinition> Parameters,
    IReadOnlyDictionary<string, string>? Hints = null,
    IReadOnlyList<ParameterRule>? Rules = null);

/// <summary>
/// The types of one family (layers, optimizers, losses or schedulers). Checks a spec by name, fills in PyTorch's
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

    /// <summary>"layer", "optimizer", "loss", "scheduler": used in messages.</summary>
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
            errors.Add($"{path}.type", $"'{spec.Type}' is not a known {Family} type.{NearestName.Hint(spec.Type, _definitions.Keys)} Known types: {KnownTypes()}.");
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
                var hint = definition.Hints is not null && definition.Hints.TryGetValue(name, out var known)
                    ? $" {known}"
                    : NearestName.Hint(name, definition.Parameters.Select(p => p.Name));
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
        if (problems.IsEmpty && definition.Rules is not null)
        {
            var candidate = spec with { Parameters = resolved };
            foreach (var rule in definition.Rules)
            {
                if (rule.Problem(candidate) is { } problem)
                {
                    problems.Add($"{path}.{rule.Parameter}", problem);
                }
            }
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
                return WholeNumberProblem(value) ?? CheckRange(parameter, value.GetInt32());
            case ParameterKind.Number:
                if (value.ValueKind != JsonValueKind.Number)
                {
                    return $"must be a number; got {value.GetRawText()}.";
                }
                return NotFinite(value) ?? CheckRange(parameter, value.GetDouble());
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
            case ParameterKind.IntegerOrList when value.ValueKind == JsonValueKind.Number:
                return value.TryGetInt64(out _)
                    ? WholeNumberProblem(value) ?? CheckRange(parameter, value.GetInt32())
                    : $"must be a whole number or a list of {parameter.Length} whole numbers; got {value.GetRawText()}.";
            case ParameterKind.Layers:
                return value.ValueKind == JsonValueKind.Array && value.GetArrayLength() > 0 && value.EnumerateArray().All(item => item.ValueKind == JsonValueKind.Object)
                    ? null
                    : $"must be a non-empty list of layers such as [{{\"type\": \"relu\"}}]; got {value.GetRawText()}.";
            case ParameterKind.IntegerList:
            case ParameterKind.NumberList:
            case ParameterKind.IntegerOrList:
                if (value.ValueKind != JsonValueKind.Array)
                {
                    return parameter.Kind == ParameterKind.IntegerOrList
                        ? $"must be a whole number or a list of {parameter.Length} whole numbers; got {value.GetRawText()}."
                        : $"must be a list of numbers such as {(parameter.Default is null ? "[1, 2]" : JsonSerializer.Serialize(parameter.Default))}; got {value.GetRawText()}.";
                }
                var items = value.EnumerateArray().ToList();
                if (parameter.Length is { } length && items.Count != length)
                {
                    return $"must have exactly {length} numbers; got {items.Count}.";
                }
                foreach (var item in items)
                {
                    var wholeOnly = parameter.Kind != ParameterKind.NumberList;
                    if (item.ValueKind != JsonValueKind.Number || (wholeOnly && !item.TryGetInt64(out _)))
                    {
                        return $"must hold only {(wholeOnly ? "whole numbers" : "numbers")}; got {item.GetRawText()}.";
                    }
                    if (wholeOnly && WholeNumberProblem(item) is { } tooLarge)
                    {
                        return tooLarge;
                    }
                    var problem = NotFinite(item) ?? CheckRange(parameter, item.GetDouble());
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

    /// <summary>Whole numbers are 32-bit, as TorchSharp's sizes and counts are here.</summary>
    private static string? WholeNumberProblem(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var number))
        {
            return $"must be a whole number; got {value.GetRawText()}.";
        }
        return number is < int.MinValue or > int.MaxValue ? $"must be between {int.MinValue} and {int.MaxValue}; got {number}." : null;
    }

    /// <summary>A JSON number too large for a double reads as ±Infinity; NaN and Infinity as strings never get here (they are not numbers).</summary>
    private static string? NotFinite(JsonElement number) =>
        double.IsFinite(number.GetDouble()) ? null : $"must be a finite number; got {number.GetRawText()}, which is too large for a double.";

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
