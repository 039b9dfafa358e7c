namespace Experiments.Domain.Sweeps;

public enum SweepStatus
{
    /// <summary>Trials are queued, running, or still to be started.</summary>
    Running,

    /// <summary>Every trial it may start has finished, and at least one has a value.</summary>
    Succeeded,

    /// <summary>Every trial failed.</summary>
    Failed,

    Cancelled,
}

/// <summary>
/// A hyperparameter search. Its trials are ordinary runs that carry its id and their number; the sweep holds its resolved
/// spec and its status, and its controller derives everything else (what to start next, when it is done) from the trials
/// in the database, so a restarted or second controller continues where the first stopped.
/// </summary>
public sealed class Sweep
{
    private Sweep()
    {
    }

    public Sweep(Guid id, SweepSpec spec, DateTimeOffset createdAt)
    {
        Id = id;
        Spec = spec;
        Name = spec.Name;
        DatasetId = spec.Base!.DatasetId;
        Status = SweepStatus.Running;
        CreatedAt = createdAt;
    }

    public Guid Id { get; private set; }

    public string? Name { get; private set; }

    /// <summary>The resolved spec: method, metric, goal, budget, early termination and seed all filled in.</summary>
    public SweepSpec Spec { get; private set; } = new();

    public Guid DatasetId { get; private set; }

    public SweepStatus Status { get; private set; }

    /// <summary>Why it failed: the first trial's error.</summary>
    public string? Error { get; private set; }

    public bool CancelRequested { get; private set; }

    public DateTimeOffset CreatedAt { get; private set; }

    public string? CreatedBy { get; private set; }

    public DateTimeOffset? FinishedAt { get; private set; }

    public bool IsFinished => Status != SweepStatus.Running;

    public void AttributeTo(string? createdBy) => CreatedBy = createdBy;

    /// <summary>Asks the controller to cancel the queued trials and stop the running ones; false when already finished.</summary>
    public bool RequestCancel()
    {
        if (IsFinished)
        {
            return false;
        }
        CancelRequested = true;
        return true;
    }

    /// <summary>Ends the sweep once no trial is active: cancelled when asked, else succeeded (or failed when no trial has a value).</summary>
    public void Finish(bool anyValue, string? firstError, DateTimeOffset now)
    {
        if (IsFinished)
        {
            throw new InvalidOperationException($"Sweep {Id} already finished as {Status}.");
        }
        Status = CancelRequested ? SweepStatus.Cancelled : anyValue ? SweepStatus.Succeeded : SweepStatus.Failed;
        Error = Status == SweepStatus.Failed ? firstError ?? "no trial produced a value of the metric." : null;
        FinishedAt = now;
    }
}
