namespace Experiments.Domain.Runs;

/// <summary>
/// A training run: <c>Queued → Running → Succeeded | Failed | Cancelled</c>. The entity refuses illegal
/// transitions, so a replayed or late job cannot move a finished run.
/// </summary>
public sealed class Run
{
    private Run()
    {
    }

    public Run(Guid id, RunSpec spec, DateTimeOffset createdAt)
    {
        Id = id;
        DatasetId = spec.DatasetId;
        ModelId = spec.ModelId;
        Spec = spec;
        Status = RunStatus.Queued;
        CreatedAt = createdAt;
    }

    public Guid Id { get; private set; }

    public Guid DatasetId { get; private set; }

    public Guid ModelId { get; private set; }

    /// <summary>The resolved spec: every default filled in, exactly what was trained.</summary>
    public RunSpec Spec { get; private set; } = new();

    public RunStatus Status { get; private set; }

    public StopReason? StopReason { get; private set; }

    public string? Error { get; private set; }

    public DateTimeOffset CreatedAt { get; private set; }

    public DateTimeOffset? StartedAt { get; private set; }

    public DateTimeOffset? FinishedAt { get; private set; }

    public int EpochsCompleted { get; private set; }

    public double? BestTestAccuracy { get; private set; }

    public double? LastTestAccuracy { get; private set; }

    /// <summary>Where the run trained (cpu, cuda:0), known once it starts.</summary>
    public string? Device { get; private set; }

    public bool IsFinished => Status is RunStatus.Succeeded or RunStatus.Failed or RunStatus.Cancelled;

    public void Start(string device, DateTimeOffset now)
    {
        if (Status != RunStatus.Queued)
        {
            throw new InvalidOperationException($"Run {Id} is {Status}; only a queued run can start.");
        }
        Status = RunStatus.Running;
        Device = device;
        StartedAt = now;
    }

    public void RecordEpoch(EpochMetric metric)
    {
        EnsureRunning();
        if (metric.Epoch != EpochsCompleted + 1)
        {
            throw new InvalidOperationException($"Run {Id} expected epoch {EpochsCompleted + 1}, got {metric.Epoch}.");
        }
        EpochsCompleted = metric.Epoch;
        LastTestAccuracy = metric.TestAccuracy;
        if (metric.TestAccuracy is { } accuracy)
        {
            BestTestAccuracy = BestTestAccuracy is { } best ? Math.Max(best, accuracy) : accuracy;
        }
    }

    public void Succeed(StopReason reason, DateTimeOffset now)
    {
        EnsureRunning();
        if (reason is not (Runs.StopReason.EpochsCompleted or Runs.StopReason.TargetAccuracyReached))
        {
            throw new ArgumentOutOfRangeException(nameof(reason), reason, "A run succeeds when its epochs are done or its target is reached.");
        }
        Finish(RunStatus.Succeeded, reason, null, now);
    }

    public void Fail(string error, DateTimeOffset now)
    {
        if (IsFinished)
        {
            throw new InvalidOperationException($"Run {Id} already finished as {Status}.");
        }
        Finish(RunStatus.Failed, Runs.StopReason.Failed, error, now);
    }

    private void Finish(RunStatus status, StopReason reason, string? error, DateTimeOffset now)
    {
        Status = status;
        StopReason = reason;
        Error = error;
        FinishedAt = now;
    }

    private void EnsureRunning()
    {
        if (Status != RunStatus.Running)
        {
            throw new InvalidOperationException($"Run {Id} is {Status}, not running.");
        }
    }
}
