namespace Experiments.Domain.Runs;

/// <summary>
/// A training run: <c>Queued → Running → Succeeded | Failed | Cancelled</c>. The entity refuses illegal
/// transitions, so a replayed or late job cannot move a finished run. A running run is owned by one
/// worker through a lease the worker renews; a run whose lease expired (its worker died) can be taken
/// over and resumed from its last checkpoint.
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

    /// <summary>The name of the key that created it; null on a service without keys.</summary>
    public string? CreatedBy { get; private set; }

    /// <summary>Records who created it (at creation, before it is first saved).</summary>
    public void AttributeTo(string? createdBy) => CreatedBy = createdBy;

    public DateTimeOffset? StartedAt { get; private set; }

    public DateTimeOffset? FinishedAt { get; private set; }

    public int EpochsCompleted { get; private set; }

    public double? BestTestAccuracy { get; private set; }

    public int? BestEpoch { get; private set; }

    /// <summary>The validation accuracy of <see cref="BestEpoch"/>; null when the run holds no validation split out.</summary>
    public double? BestValidationAccuracy { get; private set; }

    public double? LastTestAccuracy { get; private set; }

    /// <summary>Where and with what the run trained, so its results can be reproduced.</summary>
    public RunEnvironment? Environment { get; private set; }

    /// <summary>The worker that owns the running run, and until when (renewed by its heartbeat).</summary>
    public string? LeaseOwner { get; private set; }

    public DateTimeOffset? LeaseExpiresAt { get; private set; }

    /// <summary>Set when a user cancels a running run; its worker stops at the next batch.</summary>
    public bool CancelRequested { get; private set; }

    /// <summary>Times a worker resumed this run after its previous worker died.</summary>
    public int Resumes { get; private set; }

    /// <summary>The final test-split evaluation (confusion matrix, per-class metrics), once finished.</summary>
    public RunEvaluation? Evaluation { get; private set; }

    /// <summary>The sweep this run is a trial of; null for a run of its own.</summary>
    public Guid? SweepId { get; private set; }

    /// <summary>The trial's number in its sweep, from 1; unique per sweep, so no trial is ever started twice.</summary>
    public int? TrialNumber { get; private set; }

    /// <summary>The searched fields' values this trial was given, by path.</summary>
    public IReadOnlyDictionary<string, System.Text.Json.JsonElement>? TrialParameters { get; private set; }

    /// <summary>Why the sweep's early termination stopped this trial, when it did.</summary>
    public Sweeps.TrialPruning? Pruning { get; private set; }

    /// <summary>Makes the run (before it is first saved) trial <paramref name="number"/> of <paramref name="sweepId"/>.</summary>
    public void MakeTrial(Guid sweepId, int number, IReadOnlyDictionary<string, System.Text.Json.JsonElement> parameters)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(number, 1);
        SweepId = sweepId;
        TrialNumber = number;
        TrialParameters = parameters;
    }

    public bool IsFinished => Status.IsFinished();

    public bool IsLeaseAlive(DateTimeOffset now) => LeaseExpiresAt is { } expires && expires > now;

    /// <summary>Whether a worker may take this run at <paramref name="now"/>: it is queued, or running under an expired lease and not being cancelled.</summary>
    public bool CanBeClaimed(DateTimeOffset now) =>
        Status == RunStatus.Queued || (Status == RunStatus.Running && !IsLeaseAlive(now) && !CancelRequested);

    /// <summary>Takes the run for <paramref name="worker"/>: starts a queued run, or takes over one whose worker died.</summary>
    public void Claim(string worker, RunEnvironment environment, DateTimeOffset now, TimeSpan lease)
    {
        if (!CanBeClaimed(now))
        {
            throw new InvalidOperationException(Status == RunStatus.Running
                ? $"Run {Id} is owned by {LeaseOwner} until {LeaseExpiresAt:O}."
                : $"Run {Id} is {Status}; only a queued run or one whose worker died can be taken.");
        }
        if (Status == RunStatus.Running)
        {
            Resumes++;
        }
        else
        {
            StartedAt = now;
        }
        Status = RunStatus.Running;
        LeaseOwner = worker;
        LeaseExpiresAt = now + lease;
        Environment = environment;
    }

    /// <summary>Rolls the recorded progress back to the epoch of the checkpoint a resumed run continues from.</summary>
    public void ResumeAt(int epoch, IReadOnlyList<EpochMetric> keptMetrics)
    {
        EnsureRunning();
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        var kept = keptMetrics
            .Where(metric => metric.Epoch <= epoch)
            .Aggregate(EpochSummary.None, (summary, metric) => summary.Apply(metric));
        Summarize(kept with { EpochsCompleted = epoch });
    }

    public void RecordEpoch(EpochMetric metric)
    {
        EnsureRunning();
        if (metric.Epoch != EpochsCompleted + 1)
        {
            throw new InvalidOperationException($"Run {Id} expected epoch {EpochsCompleted + 1}, got {metric.Epoch}.");
        }
        Summarize(Summary.Apply(metric));
    }

    /// <summary>Cancels a queued run at once; asks a running run's worker to stop. Returns false when already finished.</summary>
    public bool Cancel(DateTimeOffset now)
    {
        switch (Status)
        {
            case RunStatus.Queued:
                Finish(RunStatus.Cancelled, Runs.StopReason.Cancelled, null, now);
                return true;
            case RunStatus.Running:
                CancelRequested = true;
                return true;
            default:
                return false;
        }
    }

    public void Succeed(StopReason reason, RunEvaluation? evaluation, DateTimeOffset now)
    {
        EnsureRunning();
        if (reason is not (Runs.StopReason.EpochsCompleted or Runs.StopReason.TargetAccuracyReached))
        {
            throw new ArgumentOutOfRangeException(nameof(reason), reason, "A run succeeds when its epochs are done or its target is reached.");
        }
        Evaluation = evaluation;
        Finish(RunStatus.Succeeded, reason, null, now);
    }

    /// <summary>
    /// The worker stopped a sweep's trial early because its sweep's rule judged it (<paramref name="pruning"/>): the run
    /// succeeded, with its metrics and best weights so far, and no final evaluation.
    /// </summary>
    public void Prune(Sweeps.TrialPruning pruning, DateTimeOffset now)
    {
        EnsureRunning();
        if (SweepId is null)
        {
            throw new InvalidOperationException($"Run {Id} is not a sweep's trial; only a trial is pruned.");
        }
        Pruning = pruning;
        Finish(RunStatus.Succeeded, Runs.StopReason.Pruned, null, now);
    }

    /// <summary>The worker stopped the run because a user cancelled it; metrics and checkpoint stay.</summary>
    public void ConfirmCancelled(DateTimeOffset now)
    {
        EnsureRunning();
        Finish(RunStatus.Cancelled, Runs.StopReason.Cancelled, null, now);
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
        LeaseOwner = null;
        LeaseExpiresAt = null;
    }

    private EpochSummary Summary => new(EpochsCompleted, LastTestAccuracy, BestTestAccuracy, BestEpoch, BestValidationAccuracy);

    private void Summarize(EpochSummary summary)
    {
        EpochsCompleted = summary.EpochsCompleted;
        LastTestAccuracy = summary.LastTestAccuracy;
        BestTestAccuracy = summary.BestTestAccuracy;
        BestEpoch = summary.BestEpoch;
        BestValidationAccuracy = summary.BestValidationAccuracy;
    }

    private void EnsureRunning()
    {
        if (Status != RunStatus.Running)
        {
            throw new InvalidOperationException($"Run {Id} is {Status}, not running.");
        }
    }
}

/// <summary>What a run trained with: enough to reproduce its numbers.</summary>
public sealed record RunEnvironment(string Device, string TorchSharpVersion, string LibTorchVersion, int Threads, string MachineName, string Worker);

/// <summary>
/// A full evaluation of a trained model on one split: for a classifier the accuracy, confusion matrix
/// ([true class][predicted class] → samples) and per-class metrics; for regression MSE, MAE and R².
/// </summary>
public sealed record RunEvaluation(
    string Split,
    long Samples,
    double Loss,
    double? Accuracy,
    string[] ClassNames,
    int[][] ConfusionMatrix,
    IReadOnlyList<ClassMetrics> PerClass)
{
    public double? Mse { get; init; }

    public double? Mae { get; init; }

    public double? R2 { get; init; }
}

/// <summary>Precision, recall and F1 of one class; <see cref="Support"/> is how many samples truly are of it.</summary>
public sealed record ClassMetrics(string ClassName, double Precision, double Recall, double F1, int Support);

public static class RunEvaluations
{
    /// <summary>Per-class precision, recall and F1 from a confusion matrix ([true][predicted] → count).</summary>
    public static RunEvaluation FromConfusion(string split, long samples, double loss, double accuracy, string[] classNames, int[][] confusion)
    {
        var perClass = new List<ClassMetrics>(classNames.Length);
        for (var c = 0; c < classNames.Length; c++)
        {
            var truePositives = confusion[c][c];
            var support = confusion[c].Sum();
            var predicted = confusion.Sum(row => row[c]);
            var precision = predicted == 0 ? 0 : (double)truePositives / predicted;
            var recall = support == 0 ? 0 : (double)truePositives / support;
            var f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
            perClass.Add(new ClassMetrics(classNames[c], precision, recall, f1, support));
        }
        return new RunEvaluation(split, samples, loss, accuracy, classNames, confusion, perClass);
    }
}
