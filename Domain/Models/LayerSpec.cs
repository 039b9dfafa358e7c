using System.Text.Json;
using System.Text.Json.Serialization;
using Experiments.Domain.Specs;

namespace Experiments.Domain.Models;

/// <summary>One layer of a model, e.g. <c>{"type": "linear", "outFeatures": 3}</c>.</summary>
[JsonConverter(typeof(LayerSpecJsonConverter))]
public sealed record LayerSpec : ComponentSpec
{
    public LayerSpec(string type, IReadOnlyDictionary<string, JsonElement>? parameters = null)
        : base(type, parameters)
    {
    }
}

public sealed class LayerSpecJsonConverter : ComponentSpecJsonConverter<LayerSpec>
{
    protected override LayerSpec Create(string type, IReadOnlyDictionary<string, JsonElement> parameters) => new(type, parameters);
}
