namespace Experiments.Domain.Runs;

/// <summary>
/// One epoch's numbers as served by the API and pushed to the dashboard: accuracies for classification;
/// test MSE, MAE and R² for regression.
/// </summary>
public sealed record EpochMetricView(
    int Epoch,
    double TrainLoss,
    double? TrainAccuracy,
    double TestLoss,
    double? TestAccuracy,
    double LearningRate,
    double Seconds)
{
    public double? TestMse { get; init; }

    public double? TestMae { get; init; }

    public double? TestR2 { get; init; }

    public static EpochMetricView From(EpochMetric metric) => new(
        metric.Epoch, metric.TrainLoss, metric.TrainAccuracy, metric.TestLoss, metric.TestAccuracy, metric.LearningRate, metric.Seconds)
    {
        TestMse = metric.TestMse,
        TestMae = metric.TestMae,
        TestR2 = metric.TestR2,
    };
}

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
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt);

/// <summary>A run in full: status, why it stopped, the resolved spec and every epoch's metrics.</summary>
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
    string? Device,
    int EpochsCompleted,
    double? LastTestAccuracy,
    double? BestTestAccuracy,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    IReadOnlyList<EpochMetricView> Metrics);

public sealed record RunLogLine(long Id, DateTimeOffset Timestamp, string Level, string Message);

/// <summary>The reads of runs, shared by the REST API and the dashboard.</summary>
public interface IRunQueries
{
    Task<Page<RunListItem>> ListAsync(int page, int pageSize, CancellationToken cancellationToken);

    Task<RunView?> GetAsync(Guid id, CancellationToken cancellationToken);

    Task<IReadOnlyList<EpochMetricView>?> MetricsAsync(Guid id, CancellationToken cancellationToken);

    Task<Page<RunLogLine>?> LogsAsync(Guid id, int page, int pageSize, CancellationToken cancellationToken);
}
