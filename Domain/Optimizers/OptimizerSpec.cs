using System.Text.Json;
using System.Text.Json.Serialization;
using Experiments.Domain.Specs;

namespace Experiments.Domain.Optimizers;

/// <summary>An optimizer from <c>torch.optim</c>, e.g. <c>{"type": "adam", "lr": 0.001}</c>.</summary>
[JsonConverter(typeof(OptimizerSpecJsonConverter))]
public sealed record OptimizerSpec : ComponentSpec
{
    public OptimizerSpec(string type, IReadOnlyDictionary<string, JsonElement>? parameters = null)
        : base(type, parameters)
    {
    }
}

public sealed class OptimizerSpecJsonConverter : ComponentSpecJsonConverter<OptimizerSpec>
{
    protected override OptimizerSpec Create(string type, IReadOnlyDictionary<string, JsonElement> parameters) => new(type, parameters);
}
