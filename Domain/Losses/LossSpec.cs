using System.Text.Json;
using System.Text.Json.Serialization;
using Experiments.Domain.Specs;

namespace Experiments.Domain.Losses;

/// <summary>A loss from <c>torch.nn</c>, e.g. <c>{"type": "crossEntropy"}</c>.</summary>
[JsonConverter(typeof(LossSpecJsonConverter))]
public sealed record LossSpec : ComponentSpec
{
    public LossSpec(string type, IReadOnlyDictionary<string, JsonElement>? parameters = null)
        : base(type, parameters)
    {
    }
}

public sealed class LossSpecJsonConverter : ComponentSpecJsonConverter<LossSpec>
{
    protected override LossSpec Create(string type, IReadOnlyDictionary<string, JsonElement> parameters) => new(type, parameters);
}
