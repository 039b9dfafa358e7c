using Experiments.Api.Persistence;
using Experiments.Domain;
using Experiments.Domain.Runs;
using Microsoft.EntityFrameworkCore;

namespace Experiments.Api.Runs;

public sealed class RunQueries(ExperimentsDbContext db) : IRunQueries
{
    public async Task<Page<RunListItem>> ListAsync(RunFilter filter, int page, int pageSize, CancellationToken cancellationToken)
    {
        var joined =
            from run in db.Runs.AsNoTracking()
            join dataset in db.Datasets on run.DatasetId equals dataset.Id
            join model in db.Models on run.ModelId equals model.Id
            select new { run, DatasetName = dataset.Name, ModelName = model.Name, model.Version };
        if (filter.Status is { } status)
        {
            joined = joined.Where(row => row.run.Status == status);
        }
        if (filter.DatasetId is { } datasetId)
        {
            joined = joined.Where(row => row.run.DatasetId == datasetId);
        }
        if (filter.ModelId is { } modelId)
        {
            joined = joined.Where(row => row.run.ModelId == modelId);
        }
        if (!string.IsNullOrWhiteSpace(filter.Text))
        {
            var pattern = $"%{EscapeLike(filter.Text.Trim())}%";
            joined = joined.Where(row => EF.Functions.Like(row.DatasetName, pattern, "\\") || EF.Functions.Like(row.ModelName, pattern, "\\"));
        }
        var total = await joined.CountAsync(cancellationToken);
        var descending = filter.Descending;
        var sorted = filter.Sort switch
        {
            RunSort.Status => descending ? joined.OrderByDescending(row => row.run.Status) : joined.OrderBy(row => row.run.Status),
            RunSort.Dataset => descending ? joined.OrderByDescending(row => row.DatasetName) : joined.OrderBy(row => row.DatasetName),
            RunSort.Model => descending
                ? joined.OrderByDescending(row => row.ModelName).ThenByDescending(row => row.Version)
                : joined.OrderBy(row => row.ModelName).ThenBy(row => row.Version),
            RunSort.EpochsCompleted => descending ? joined.OrderByDescending(row => row.run.EpochsCompleted) : joined.OrderBy(row => row.run.EpochsCompleted),
            RunSort.BestTestAccuracy => descending ? joined.OrderByDescending(row => row.run.BestTestAccuracy) : joined.OrderBy(row => row.run.BestTestAccuracy),
            _ => descending ? joined.OrderByDescending(row => row.run.CreatedAt) : joined.OrderBy(row => row.run.CreatedAt),
        };
        var rows = await sorted.ThenByDescending(row => row.run.CreatedAt).ThenBy(row => row.run.Id)
            .Skip((page - 1) * pageSize).Take(pageSize)
            .ToListAsync(cancellationToken);
        var queue = await QueueAsync(cancellationToken);
        var items = rows.Select(row => new RunListItem(
            row.run.Id, row.run.Status, row.run.StopReason, row.run.DatasetId, row.DatasetName, row.run.ModelId, row.ModelName, row.Version,
            row.run.Spec.Optimizer?.Type ?? "", row.run.EpochsCompleted, row.run.Spec.Epochs ?? 0, row.run.LastTestAccuracy, row.run.BestTestAccuracy,
            QueuePosition(queue, row.run.Id), row.run.CreatedAt, row.run.StartedAt, row.run.FinishedAt)).ToList();
        return new Page<RunListItem>(items, page, pageSize, total);
    }

    public async Task<RunView?> GetAsync(Guid id, CancellationToken cancellationToken)
    {
        var row = await (
                from run in db.Runs.AsNoTracking()
                join dataset in db.Datasets on run.DatasetId equals dataset.Id
                join model in db.Models on run.ModelId equals model.Id
                where run.Id == id
                select new { run, DatasetName = dataset.Name, ModelName = model.Name, model.Version })
            .FirstOrDefaultAsync(cancellationToken);
        if (row is null)
        {
            return null;
        }
        var metrics = await EpochsOf(id).Select(metric => EpochMetricView.From(metric)).ToListAsync(cancellationToken);
        var found = row.run;
        var queuePosition = found.Status == RunStatus.Queued ? QueuePosition(await QueueAsync(cancellationToken), id) : null;
        return new RunView(found.Id, found.Status, found.StopReason, found.Error, found.DatasetId, row.DatasetName, found.ModelId, row.ModelName, row.Version,
            found.Spec, queuePosition, found.CancelRequested, found.EpochsCompleted, found.LastTestAccuracy, found.BestTestAccuracy, found.BestEpoch,
            metrics.LastOrDefault(), found.CreatedAt, found.StartedAt, found.FinishedAt,
            found.StartedAt is { } started ? (started - found.CreatedAt).TotalSeconds : null,
            found.StartedAt is { } start && found.FinishedAt is { } end ? (end - start).TotalSeconds : null,
            found.Resumes, found.Environment, found.Evaluation, metrics);
    }

    public async Task<RunMetricSeries?> MetricsAsync(Guid id, CancellationToken cancellationToken)
    {
        if (!await db.Runs.AnyAsync(run => run.Id == id, cancellationToken))
        {
            return null;
        }
        var epochs = await EpochsOf(id).ToListAsync(cancellationToken);
        var batches = await db.BatchMetrics.AsNoTracking().Where(metric => metric.RunId == id).OrderBy(metric => metric.Step).ToListAsync(cancellationToken);
        return new RunMetricSeries(
            [.. epochs.Select(m => m.Epoch)],
            [.. epochs.Select(m => m.TrainLoss)],
            [.. epochs.Select(m => m.TrainAccuracy)],
            [.. epochs.Select(m => m.TestLoss)],
            [.. epochs.Select(m => m.TestAccuracy)],
            [.. epochs.Select(m => m.TestMse)],
            [.. epochs.Select(m => m.TestMae)],
            [.. epochs.Select(m => m.TestR2)],
            [.. epochs.Select(m => m.LearningRate)],
            [.. epochs.Select(m => m.GradientNorm)],
            [.. epochs.Select(m => m.Seconds)],
            [.. epochs.Select(m => m.SamplesPerSecond)],
            new BatchSeries([.. batches.Select(b => b.Step)], [.. batches.Select(b => b.Epoch)], [.. batches.Select(b => b.Batch)], [.. batches.Select(b => b.Loss)]));
    }

    public async Task<Page<RunLogLine>?> LogsAsync(Guid id, int page, int pageSize, CancellationToken cancellationToken)
    {
        if (!await db.Runs.AnyAsync(run => run.Id == id, cancellationToken))
        {
            return null;
        }
        var lines = db.RunLogs.AsNoTracking().Where(entry => entry.RunId == id);
        var total = await lines.CountAsync(cancellationToken);
        var items = await lines.OrderBy(entry => entry.Id)
            .Skip((page - 1) * pageSize).Take(pageSize)
            .Select(entry => new RunLogLine(entry.Id, entry.Timestamp, entry.Level, entry.Message))
            .ToListAsync(cancellationToken);
        return new Page<RunLogLine>(items, page, pageSize, total);
    }

    private static string EscapeLike(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);

    private IQueryable<EpochMetric> EpochsOf(Guid id) =>
        db.EpochMetrics.AsNoTracking().Where(metric => metric.RunId == id).OrderBy(metric => metric.Epoch);

    /// <summary>Queued runs in the order workers take them (oldest first).</summary>
    private Task<List<Guid>> QueueAsync(CancellationToken cancellationToken) =>
        db.Runs.AsNoTracking().Where(run => run.Status == RunStatus.Queued).OrderBy(run => run.CreatedAt).Select(run => run.Id).ToListAsync(cancellationToken);

    private static int? QueuePosition(List<Guid> queue, Guid id)
    {
        var index = queue.IndexOf(id);
        return index < 0 ? null : index + 1;
    }
}
