using System.Text.Json;
using System.Text.Json.Serialization;
using Experiments.Domain.Specs;

namespace Experiments.Domain.Schedulers;

/// <summary>A learning-rate scheduler from <c>torch.optim.lr_scheduler</c>, e.g. <c>{"type": "stepLR", "stepSize": 10}</c>.</summary>
[JsonConverter(typeof(SchedulerSpecJsonConverter))]
public sealed record SchedulerSpec : ComponentSpec
{
    public SchedulerSpec(string type, IReadOnlyDictionary<string, JsonElement>? parameters = null)
        : base(type, parameters)
    {
    }
}

public sealed class SchedulerSpecJsonConverter : ComponentSpecJsonConverter<SchedulerSpec>
{
    protected override SchedulerSpec Create(string type, IReadOnlyDictionary<string, JsonElement> parameters) => new(type, parameters);
}
