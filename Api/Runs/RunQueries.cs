using Experiments.Api.Persistence;
using Experiments.Domain;
using Experiments.Domain.Runs;
using Microsoft.EntityFrameworkCore;

namespace Experiments.Api.Runs;

public sealed class RunQueries(ExperimentsDbContext db) : IRunQueries
{
    public async Task<Page<RunListItem>> ListAsync(int page, int pageSize, CancellationToken cancellationToken)
    {
        var total = await db.Runs.CountAsync(cancellationToken);
        var rows = await (
                from run in db.Runs.AsNoTracking()
                join dataset in db.Datasets on run.DatasetId equals dataset.Id
                join model in db.Models on run.ModelId equals model.Id
                orderby run.CreatedAt descending
                select new { run, DatasetName = dataset.Name, ModelName = model.Name, model.Version })
            .Skip((page - 1) * pageSize).Take(pageSize)
            .ToListAsync(cancellationToken);
        var items = rows.Select(row => new RunListItem(
            row.run.Id, row.run.Status, row.run.StopReason, row.run.DatasetId, row.DatasetName, row.run.ModelId, row.ModelName, row.Version,
            row.run.Spec.Optimizer?.Type ?? "", row.run.EpochsCompleted, row.run.Spec.Epochs ?? 0, row.run.LastTestAccuracy, row.run.BestTestAccuracy,
            row.run.CreatedAt, row.run.StartedAt, row.run.FinishedAt)).ToList();
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
        var metrics = await MetricsOf(id, cancellationToken);
        var found = row.run;
        return new RunView(found.Id, found.Status, found.StopReason, found.Error, found.DatasetId, row.DatasetName, found.ModelId, row.ModelName, row.Version,
            found.Spec, found.Device, found.EpochsCompleted, found.LastTestAccuracy, found.BestTestAccuracy, found.CreatedAt, found.StartedAt, found.FinishedAt, metrics);
    }

    public async Task<IReadOnlyList<EpochMetricView>?> MetricsAsync(Guid id, CancellationToken cancellationToken) =>
        await db.Runs.AnyAsync(run => run.Id == id, cancellationToken) ? await MetricsOf(id, cancellationToken) : null;

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

    private async Task<IReadOnlyList<EpochMetricView>> MetricsOf(Guid id, CancellationToken cancellationToken) =>
        await db.EpochMetrics.AsNoTracking()
            .Where(metric => metric.RunId == id)
            .OrderBy(metric => metric.Epoch)
            .Select(metric => new EpochMetricView(metric.Epoch, metric.TrainLoss, metric.TrainAccuracy, metric.TestLoss, metric.TestAccuracy, metric.LearningRate, metric.Seconds)
            {
                TestMse = metric.TestMse,
                TestMae = metric.TestMae,
                TestR2 = metric.TestR2,
            })
            .ToListAsync(cancellationToken);
}
