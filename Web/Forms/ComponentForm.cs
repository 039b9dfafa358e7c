using System.Globalization;
using System.Text.Json;
using Experiments.Domain.Specs;
using Experiments.Domain.Validation;

namespace Experiments.Web.Forms;

/// <summary>
/// The inputs of one layer, optimizer or loss, generated from its catalog: every hyperparameter as text, starting
/// from PyTorch's default. A type added to a catalog appears in the form without any page change.
/// </summary>
public sealed class ComponentForm
{
    private readonly Dictionary<string, string> _text = new(StringComparer.Ordinal);

    public ComponentForm(ComponentCatalog catalog, string? type = null)
    {
        Catalog = catalog;
        Type = type is not null && catalog.Contains(type) ? type : catalog.Definitions.First().Type;
        Reset();
    }

    public ComponentCatalog Catalog { get; }

    public string Type { get; private set; }

    public ComponentDefinition Definition => Catalog[Type];

    /// <summary>The text of each hyperparameter's input; empty means "not sent" (the default, or the catalog's "required" message).</summary>
    public string this[string parameter]
    {
        get => _text.TryGetValue(parameter, out var text) ? text : "";
        set => _text[parameter] = value;
    }

    /// <summary>Switches to another type with its defaults filled in.</summary>
    public void Select(string type)
    {
        Type = Catalog.Contains(type) ? type : throw new ArgumentException($"'{type}' is not a {Catalog.Family} type.", nameof(type));
        Reset();
    }

    /// <summary>Fills the form from an existing spec (re-running a run).</summary>
    public void Load(ComponentSpec spec)
    {
        if (!Catalog.Contains(spec.Type))
        {
            return;
        }
        Select(spec.Type);
        foreach (var (name, value) in spec.Parameters)
        {
            if (_text.ContainsKey(name))
            {
                _text[name] = value.ValueKind switch
                {
                    JsonValueKind.Null => "",
                    JsonValueKind.Array => string.Join(", ", value.EnumerateArray().Select(item => item.GetRawText())),
                    JsonValueKind.String => value.GetString()!,
                    _ => value.GetRawText(),
                };
            }
        }
    }

    /// <summary>The hyperparameters as JSON values; text that is not of the parameter's kind is reported at <c>path.name</c>.</summary>
    public Dictionary<string, JsonElement> Parameters(string path, ValidationErrors errors)
    {
        var parameters = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var parameter in Definition.Parameters)
        {
            var text = this[parameter.Name].Trim();
            if (text.Length == 0)
            {
                continue;
            }
            var value = Parse(parameter, text);
            if (value is null)
            {
                errors.Add($"{path}.{parameter.Name}", Expected(parameter));
                continue;
            }
            parameters[parameter.Name] = value.Value;
        }
        return parameters;
    }

    public static string DefaultText(ParameterDefinition parameter) => parameter.Default switch
    {
        null => "",
        bool flag => flag ? "true" : "false",
        string text => text,
        System.Collections.IEnumerable items => string.Join(", ", items.Cast<object>().Select(item => Convert.ToString(item, CultureInfo.InvariantCulture))),
        var other => Convert.ToString(other, CultureInfo.InvariantCulture) ?? "",
    };

    private void Reset()
    {
        _text.Clear();
        foreach (var parameter in Definition.Parameters)
        {
            _text[parameter.Name] = DefaultText(parameter);
        }
    }

    private static JsonElement? Parse(ParameterDefinition parameter, string text)
    {
        switch (parameter.Kind)
        {
            case ParameterKind.Integer:
                return long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var integer) ? JsonSerializer.SerializeToElement(integer) : null;
            case ParameterKind.Number:
                return TryNumber(text, out var number) ? JsonSerializer.SerializeToElement(number) : null;
            case ParameterKind.Boolean:
                return bool.TryParse(text, out var flag) ? JsonSerializer.SerializeToElement(flag) : null;
            case ParameterKind.Text:
                return JsonSerializer.SerializeToElement(text);
            case ParameterKind.IntegerOrList when long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var single):
                return JsonSerializer.SerializeToElement(single);
            case ParameterKind.IntegerOrList:
            case ParameterKind.IntegerList:
            case ParameterKind.NumberList:
                var items = text.Trim('[', ']').Split([',', ' '], StringSplitOptions.RemoveEmptyEntries);
                var numbers = new List<double>(items.Length);
                foreach (var item in items)
                {
                    if (!TryNumber(item, out var value) || (parameter.Kind is ParameterKind.IntegerList or ParameterKind.IntegerOrList && value != Math.Floor(value)))
                    {
                        return null;
                    }
                    numbers.Add(value);
                }
                return parameter.Kind is ParameterKind.IntegerList or ParameterKind.IntegerOrList
                    ? JsonSerializer.SerializeToElement(numbers.Select(value => (long)value))
                    : JsonSerializer.SerializeToElement(numbers);
            default:
                return null;
        }
    }

    private static bool TryNumber(string text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);

    private static string Expected(ParameterDefinition parameter) => parameter.Kind switch
    {
        ParameterKind.Integer => "must be a whole number.",
        ParameterKind.Number => "must be a number, e.g. 0.001 or 1e-3.",
        ParameterKind.Boolean => "must be true or false.",
        _ => $"must be numbers separated by commas, e.g. {DefaultText(parameter)}.",
    };
}
