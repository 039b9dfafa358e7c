namespace Experiments.Domain.Runs;

/// <summary>The training loss every <c>logEveryBatches</c> batches.</summary>
public sealed record BatchMetric(Guid RunId, int Epoch, int Batch, long Step, double Loss);

/// <summary>A run's metrics as parallel arrays, ready to plot: index i of every array is the same epoch.</summary>
public sealed record RunMetricSeries(
    int[] Epoch,
    double[] TrainLoss,
    double?[] TrainAccuracy,
    double?[] TestLoss,
    double?[] TestAccuracy,
    double?[] TestMse,
    double?[] TestMae,
    double?[] TestR2,
    double[] LearningRate,
    double[] GradientNorm,
    double[] Seconds,
    double[] SamplesPerSecond,
    BatchSeries Batches)
{
    /// <summary>Validation loss per epoch; all null when the run holds no validation split out.</summary>
    public double?[] ValidationLoss { get; init; } = [];

    /// <summary>Validation accuracy per epoch (classification); all null like <see cref="ValidationLoss"/>.</summary>
    public double?[] ValidationAccuracy { get; init; } = [];
}

/// <summary>Batch losses as parallel arrays; <see cref="Step"/> counts batches from the start of the run.</summary>
public sealed record BatchSeries(long[] Step, int[] Epoch, int[] Batch, double[] Loss);

/// <summary>A row of the runs list.</summary>
public sealed record RunListItem(
    Guid Id,
    RunStatus Status,
    StopReason? StopReason,
    Guid DatasetId,
    string DatasetName,
    Guid ModelId,
    string ModelName,
    int ModelVersion,
    string Optimizer,
    int EpochsCompleted,
    int Epochs,
    double? LastTestAccuracy,
    double? BestTestAccuracy,
    int? QueuePosition,
    DateTimeOffset CreatedAt,
    string? CreatedBy,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt)
{
    /// <summary>The validation accuracy of the best epoch when the run holds a validation split out (<see cref="RunView.BestValidationAccuracy"/>).</summary>
    public double? BestValidationAccuracy { get; init; }
}

/// <summary>A run in full: status, why it stopped, the resolved spec, the environment and every epoch's metrics.</summary>
public sealed record RunView(
    Guid Id,
    RunStatus Status,
    StopReason? StopReason,
    string? Error,
    Guid DatasetId,
    string DatasetName,
    Guid ModelId,
    string ModelName,
    int ModelVersion,
    RunSpec Spec,
    int? QueuePosition,
    bool CancelRequested,
    int EpochsCompleted,
    double? LastTestAccuracy,
    double? BestTestAccuracy,
    int? BestEpoch,
    EpochMetric? Final,
    DateTimeOffset CreatedAt,
    string? CreatedBy,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    double? QueueWaitSeconds,
    double? DurationSeconds,
    int Resumes,
    RunEnvironment? Environment,
    IReadOnlyList<WorkerEpochs> TrainedBy,
    RunEvaluation? Evaluation,
    IReadOnlyList<EpochMetric> Metrics)
{
    /// <summary>
    /// The validation accuracy of <see cref="BestEpoch"/> when the run holds a validation split out; the best epoch is then
    /// chosen on validation and <see cref="BestTestAccuracy"/> is that epoch's test accuracy.
    /// </summary>
    public double? BestValidationAccuracy { get; init; }

    /// <summary>The sweep this run is a trial of (<c>GET /api/sweeps/{id}</c>); null for a run of its own.</summary>
    public Guid? SweepId { get; init; }

    /// <summary>The trial's number in its sweep.</summary>
    public int? TrialNumber { get; init; }

    /// <summary>The searched fields' values the trial was given, by path.</summary>
    public IReadOnlyDictionary<string, System.Text.Json.JsonElement>? TrialParameters { get; init; }

    /// <summary>Why its sweep stopped the trial early (<c>stopReason: pruned</c>): rule, epoch, value and threshold.</summary>
    public Sweeps.TrialPruning? Pruning { get; init; }
}

/// <summary>
/// Consecutive epochs of a run that one worker trained (a run resumed by another worker has several); <c>Worker</c> is
/// null for epochs trained before workers were recorded.
/// </summary>
public sealed record WorkerEpochs(string? Worker, int FirstEpoch, int LastEpoch)
{
    /// <summary>Adds <paramref name="epoch"/>, trained by <paramref name="worker"/>: the last range grows when that worker trained the epoch before, else a range starts.</summary>
    public static void Add(List<WorkerEpochs> ranges, string? worker, int epoch)
    {
        if (ranges.Count > 0 && ranges[^1] is var last && last.Worker == worker && last.LastEpoch == epoch - 1)
        {
            ranges[^1] = last with { LastEpoch = epoch };
        }
        else
        {
            ranges.Add(new WorkerEpochs(worker, epoch, epoch));
        }
    }
}

public sealed record RunLogLine(long Id, DateTimeOffset Timestamp, string Level, string Message);

/// <summary>Columns the runs list can be sorted by, in the database.</summary>
public enum RunSort
{
    CreatedAt,
    Status,
    Dataset,
    Model,
    EpochsCompleted,
    BestTestAccuracy,
}

/// <summary>
/// Which runs to list and in what order. <see cref="Text"/> matches part of the dataset or model name; <see cref="CreatedBy"/> is a key's name;
/// <see cref="SweepId"/> keeps a sweep's trials. Ties are broken newest first, so a page never shuffles.
/// </summary>
public sealed record RunFilter(
    RunStatus? Status = null,
    Guid? DatasetId = null,
    Guid? ModelId = null,
    string? Text = null,
    RunSort Sort = RunSort.CreatedAt,
    bool Descending = true,
    string? CreatedBy = null,
    Guid? SweepId = null)
{
    public static RunFilter Newest { get; } = new();
}

/// <summary>The reads of runs, shared by the REST API and the dashboard.</summary>
public interface IRunQueries
{
    Task<Page<RunListItem>> ListAsync(RunFilter filter, int page, int pageSize, CancellationToken cancellationToken);

    Task<RunView?> GetAsync(Guid id, CancellationToken cancellationToken);

    Task<RunMetricSeries?> MetricsAsync(Guid id, CancellationToken cancellationToken);

    Task<Page<RunLogLine>?> LogsAsync(Guid id, int page, int pageSize, CancellationToken cancellationToken);

    /// <summary>
    /// The run's layer snapshots from step <paramref name="from"/> to <paramref name="to"/> (inclusive, either open), at most
    /// <see cref="RunLayerSeries.MaxSteps"/> of them, of the tensors and layers under <paramref name="layer"/> when set; null when
    /// there is no such run.
    /// </summary>
    Task<RunLayerSeries?> LayersAsync(Guid id, long? from, long? to, string? layer, CancellationToken cancellationToken);
}
