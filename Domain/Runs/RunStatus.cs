namespace Experiments.Domain.Runs;

public enum RunStatus
{
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

public static class RunStatuses
{
    /// <summary>Whether a run in <paramref name="status"/> is done for good: succeeded, failed or cancelled.</summary>
    public static bool IsFinished(this RunStatus status) =>
        status is RunStatus.Succeeded or RunStatus.Failed or RunStatus.Cancelled;
}

/// <summary>Why a run stopped.</summary>
public enum StopReason
{
    EpochsCompleted,
    TargetAccuracyReached,
    Cancelled,
    Failed,

    /// <summary>A sweep's trial that its early termination stopped: it succeeded, with fewer epochs (<c>pruning</c> says why).</summary>
    Pruned,
}

public enum TrainingDevice
{
    Auto,
    Cpu,
    Cuda,
}
