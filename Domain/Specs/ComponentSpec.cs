using System.Text.Json;
using System.Text.Json.Serialization;

namespace Experiments.Domain.Specs;

/// <summary>
/// A named building block with hyperparameters, written the way PyTorch names them:
/// <c>{"type": "linear", "outFeatures": 10}</c>, <c>{"type": "adam", "lr": 0.001}</c>.
/// Layers, optimizers, losses and schedulers all take this shape; a <see cref="ComponentCatalog"/> says which
/// types and hyperparameters exist and checks a spec against them.
/// </summary>
public abstract record ComponentSpec
{
    protected ComponentSpec(string type, IReadOnlyDictionary<string, JsonElement>? parameters)
    {
        Type = type;
        Parameters = parameters ?? new Dictionary<string, JsonElement>();
    }

    public string Type { get; }

    /// <summary>Hyperparameters other than <c>type</c>, as sent (or, once resolved, with defaults filled in).</summary>
    public IReadOnlyDictionary<string, JsonElement> Parameters { get; init; }

    public int Int(string name) => Parameters[name].GetInt32();

    public long Long(string name) => Parameters[name].GetInt64();

    public double Double(string name) => Parameters[name].GetDouble();

    public bool Bool(string name) => Parameters[name].GetBoolean();

    public string String(string name) => Parameters[name].GetString()!;

    public bool Has(string name) => Parameters.TryGetValue(name, out var value) && value.ValueKind != JsonValueKind.Null;

    public double[] Doubles(string name) => Parameters[name].EnumerateArray().Select(item => item.GetDouble()).ToArray();

    public int[] Ints(string name) => Parameters[name].EnumerateArray().Select(item => item.GetInt32()).ToArray();

    /// <summary>A whole number or a list (<see cref="ParameterKind.IntegerOrList"/>) as <paramref name="count"/> numbers: 3 → [3, 3].</summary>
    public int[] Ints(string name, int count) => Parameters[name].ValueKind == JsonValueKind.Number
        ? Enumerable.Repeat(Parameters[name].GetInt32(), count).ToArray()
        : Ints(name);

    /// <summary>The number, or null when the hyperparameter is absent or null (a default of "none", as in PyTorch).</summary>
    public int? IntOrNull(string name) => Has(name) ? Int(name) : null;

    /// <summary>The spec as logs show it, in PyTorch's call style: <c>adam(lr=0.01, betas=[0.9,0.999])</c>.</summary>
    public string Describe() => $"{Type}({string.Join(", ", Parameters.Select(parameter => $"{parameter.Key}={parameter.Value.GetRawText()}"))})";
}

/// <summary>Reads and writes a component as one flat JSON object whose <c>type</c> names it.</summary>
public abstract class ComponentSpecJsonConverter<T> : JsonConverter<T> where T : ComponentSpec
{
    protected abstract T Create(string type, IReadOnlyDictionary<string, JsonElement> parameters);

    public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("expected an object such as {\"type\": \"linear\", \"outFeatures\": 10}");
        }
        using var document = JsonDocument.ParseValue(ref reader);
        string? type = null;
        var parameters = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var property in document.RootElement.EnumerateObject())
        {
            if (property.Name == "type")
            {
                type = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString() : null;
            }
            else
            {
                parameters[property.Name] = property.Value.Clone();
            }
        }
        return Create(type ?? "", parameters);
    }

    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteString("type", value.Type);
        foreach (var (name, parameter) in value.Parameters)
        {
            writer.WritePropertyName(name);
            parameter.WriteTo(writer);
        }
        writer.WriteEndObject();
    }
}
