namespace Experiments.Domain.Models;

/// <summary>
/// The host's limits on what a model may cost, handed to the validators by the API (which reads them from its
/// settings; the domain never reads configuration): the most parameters a model may have, and the most memory one
/// training step may need by <see cref="TrainingEstimate.TotalBytes"/>. The setting names are what the refusals cite,
/// so whoever runs the service knows what to change.
/// </summary>
public sealed record ModelLimits(long MaxParameters, long MaxTrainingMemoryBytes)
{
    /// <summary>No limit at all: what tests and tools that check shapes alone use.</summary>
    public static ModelLimits None { get; } = new(long.MaxValue, long.MaxValue);

    /// <summary>The setting that holds <see cref="MaxParameters"/>, as messages name it.</summary>
    public string MaxParametersSetting { get; init; } = nameof(MaxParameters);

    /// <summary>The setting that holds <see cref="MaxTrainingMemoryBytes"/>, as messages name it.</summary>
    public string MaxTrainingMemorySetting { get; init; } = nameof(MaxTrainingMemoryBytes);

    /// <summary>
    /// The memory of the device the run will train on, in bytes, when it is known; a run whose estimate exceeds it is
    /// refused even under <see cref="MaxTrainingMemoryBytes"/>. Null (unknown, e.g. a CUDA GPU) checks the limit alone.
    /// </summary>
    public long? DeviceMemoryBytes { get; init; }

    /// <summary>What <see cref="DeviceMemoryBytes"/> is the memory of, for messages: "this machine".</summary>
    public string DeviceName { get; init; } = "this machine";
}
