namespace Experiments.Domain.Runs;

public enum RunStatus
{
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

/// <summary>Why a run stopped.</summary>
public enum StopReason
{
    EpochsCompleted,
    TargetAccuracyReached,
    Cancelled,
    Failed,
}

public enum TrainingDevice
{
    Auto,
    Cpu,
    Cuda,
}
