namespace Experiments.Domain.Runs;

/// <summary>Pushed on the runs hub when a run is queued and whenever it changes state; enums as in REST ("running").</summary>
public sealed record RunStatusChanged(Guid RunId, RunStatus Status, StopReason? StopReason, string? Error, DateTimeOffset Timestamp);

/// <summary>Pushed on the runs hub after every epoch, stamped with when the server published it.</summary>
public sealed record EpochCompleted(Guid RunId, EpochMetric Metric)
{
    public DateTimeOffset PublishedAt { get; init; }
}

/// <summary>
/// Pushed on the runs hub while an epoch trains, at most four times a second. <see cref="Loss"/> is the training loss
/// of the most recent batch whose loss was read from the device (at most 250 ms before this batch).
/// </summary>
public sealed record BatchProgress(Guid RunId, int Epoch, int Batch, int BatchesPerEpoch, double? Loss);

/// <summary>Pushed to the run's own hub group (not to the group of all runs) for every snapshot its <c>watch</c> records.</summary>
public sealed record LayersWatched(Guid RunId, LayerSnapshot Snapshot);

/// <summary>Pushed on the runs hub for every line of a run's log.</summary>
public sealed record LogLineWritten(Guid RunId, RunLogLine Line);

/// <summary>
/// What the server pushes to clients of the runs hub. Shared by the hub (Api) and its clients (the dashboard),
/// so method names are never spelled twice.
/// </summary>
public interface IRunsClient
{
    Task RunStatusChanged(RunStatusChanged change);

    Task EpochCompleted(EpochCompleted epoch);

    Task BatchProgress(BatchProgress progress);

    Task LogLine(LogLineWritten line);

    Task LayersWatched(LayersWatched watched);
}

/// <summary>What a client may call on the runs hub: join or leave one run's group or the group of all runs.</summary>
public interface IRunsHub
{
    /// <summary>Where the hub is mapped.</summary>
    const string Path = "/hubs/runs";

    Task JoinRun(Guid runId);

    Task LeaveRun(Guid runId);

    Task JoinAll();

    Task LeaveAll();
}
