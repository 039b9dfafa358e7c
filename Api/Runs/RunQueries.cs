using Experiments.Api.Persistence;
using Experiments.Api.Persistence.Configurations;
using Experiments.Domain;
using Experiments.Domain.Runs;
using Microsoft.EntityFrameworkCore;

namespace Experiments.Api.Runs;

public sealed class RunQueries(ExperimentsDbContext db) : IRunQueries
{
    public async Task<Page<RunListItem>> ListAsync(RunFilter filter, int page, int pageSize, CancellationToken cancellationToken)
    {
        // Several queries answer each read: take a pooled connection once, not once per query.
        await db.Database.OpenConnectionAsync(cancellationToken);
        var (rows, total) = ListsEveryRunNewestFirst(filter)
            ? await NewestFirstAsync(page, pageSize, cancellationToken)
            : await FilteredAsync(filter, page, pageSize, cancellationToken);
        var queuePositions = await QueuePositionsAsync(
            [.. rows.Where(row => row.Status == RunStatus.Queued).Select(row => (row.Id, row.CreatedAt))], cancellationToken);
        return new Page<RunListItem>([.. rows.Select(row => row.ToListItem(queuePositions.GetValueOrDefault(row.Id)))], page, pageSize, total);
    }

    private static bool ListsEveryRunNewestFirst(RunFilter filter) =>
        filter is { Status: null, DatasetId: null, ModelId: null, CreatedBy: null, SweepId: null, Sort: RunSort.CreatedAt, Descending: true } && string.IsNullOrWhiteSpace(filter.Text);

    /// <summary>
    /// The list as it opens (every run, newest first): the commonest read of all, answered by one compiled query. Each row
    /// carries the total; a page past the last one has no row to carry it and counts on its own.
    /// </summary>
    private async Task<(List<PageRow> Rows, int Total)> NewestFirstAsync(int page, int pageSize, CancellationToken cancellationToken)
    {
        List<PageRow> rows = Paging.Offset(page, pageSize) is { } offset
            ? await NewestFirstPage.For(db)(db, offset, pageSize).ToListAsync(cancellationToken)
            : [];
        return (rows, rows.Count > 0 ? rows[0].TotalCount : await db.Runs.CountAsync(cancellationToken));
    }

    /// <summary>
    /// Any filter and order, in one query like <see cref="NewestFirstPage"/>: the page is chosen on the sort keys alone (an index
    /// walk for creation time), and only its rows are then read in full, so deep pages stay as cheap as the first.
    /// </summary>
    private async Task<(List<PageRow> Rows, int Total)> FilteredAsync(RunFilter filter, int page, int pageSize, CancellationToken cancellationToken)
    {
        var runs = db.Runs.AsNoTracking();
        if (filter.Status is { } status)
        {
            runs = runs.Where(run => run.Status == status);
        }
        if (filter.DatasetId is { } datasetId)
        {
            runs = runs.Where(run => run.DatasetId == datasetId);
        }
        if (filter.ModelId is { } modelId)
        {
            runs = runs.Where(run => run.ModelId == modelId);
        }
        if (filter.SweepId is { } sweepId)
        {
            runs = runs.Where(run => run.SweepId == sweepId);
        }
        if (filter.CreatedBy is { } createdBy)
        {
            runs = runs.Where(run => run.CreatedBy == createdBy);
        }
        if (!string.IsNullOrWhiteSpace(filter.Text))
        {
            // Case-insensitive on both engines: SQLite's LIKE already is (for ASCII), PostgreSQL's is not.
            var pattern = $"%{EscapeLike(filter.Text.Trim().ToLowerInvariant())}%";
            runs = runs.Where(run =>
                db.Datasets.Any(dataset => dataset.Id == run.DatasetId && EF.Functions.Like(dataset.Name.ToLower(), pattern, "\\"))
                || db.Models.Any(model => model.Id == run.ModelId && EF.Functions.Like(model.Name.ToLower(), pattern, "\\")));
        }

        var descending = filter.Descending;
        var sorted = filter.Sort switch
        {
            RunSort.Status => descending ? runs.OrderByDescending(run => run.Status) : runs.OrderBy(run => run.Status),
            RunSort.Dataset => descending
                ? runs.OrderByDescending(run => db.Datasets.Where(dataset => dataset.Id == run.DatasetId).Select(dataset => dataset.Name).First())
                : runs.OrderBy(run => db.Datasets.Where(dataset => dataset.Id == run.DatasetId).Select(dataset => dataset.Name).First()),
            RunSort.Model => descending
                ? runs.OrderByDescending(run => db.Models.Where(model => model.Id == run.ModelId).Select(model => model.Name).First())
                    .ThenByDescending(run => db.Models.Where(model => model.Id == run.ModelId).Select(model => model.Version).First())
                : runs.OrderBy(run => db.Models.Where(model => model.Id == run.ModelId).Select(model => model.Name).First())
                    .ThenBy(run => db.Models.Where(model => model.Id == run.ModelId).Select(model => model.Version).First()),
            RunSort.EpochsCompleted => descending ? runs.OrderByDescending(run => run.EpochsCompleted) : runs.OrderBy(run => run.EpochsCompleted),
            RunSort.BestTestAccuracy => descending ? runs.OrderByDescending(run => run.BestTestAccuracy) : runs.OrderBy(run => run.BestTestAccuracy),
            _ => descending ? runs.OrderByDescending(run => run.CreatedAt) : runs.OrderBy(run => run.CreatedAt),
        };
        // Ties newest first; by creation time alone, the (CreatedAt, Id) index serves the whole order.
        var ordered = filter.Sort == RunSort.CreatedAt
            ? descending ? sorted.ThenByDescending(run => run.Id) : sorted.ThenBy(run => run.Id)
            : sorted.ThenByDescending(run => run.CreatedAt).ThenByDescending(run => run.Id);
        var pageIds = ordered.PageOf(page, pageSize).Select(run => run.Id);

        // EF Core orders the joined rows by the page's own sort keys.
        var rows = await (
                from id in pageIds
                join run in db.Runs on id equals run.Id
                join dataset in db.Datasets on run.DatasetId equals dataset.Id
                join model in db.Models on run.ModelId equals model.Id
                select new PageRow(run.Id, run.Status, run.StopReason, run.DatasetId, dataset.Name, run.ModelId, model.Name, model.Version,
                    EF.Property<string?>(run, RunConfiguration.OptimizerType), EF.Property<int?>(run, RunConfiguration.SpecEpochs),
                    run.EpochsCompleted, run.LastTestAccuracy, run.BestTestAccuracy, run.BestValidationAccuracy,
                    run.CreatedAt, run.CreatedBy, run.StartedAt, run.FinishedAt, runs.Count()))
            .ToListAsync(cancellationToken);
        return (rows, rows.Count > 0 ? rows[0].TotalCount : await runs.CountAsync(cancellationToken));
    }

    /// <summary>
    /// <see cref="FilteredAsync"/>'s query for no filter and the default order, written out again because a compiled query
    /// cannot be assembled from parts: compiled, it skips building and looking up the query on every request.
    /// </summary>
    private static readonly CompiledPerModel<Func<ExperimentsDbContext, int, int, IAsyncEnumerable<PageRow>>> NewestFirstPage = new(() =>
        EF.CompileAsyncQuery((ExperimentsDbContext db, int offset, int pageSize) =>
            from id in db.Runs.OrderByDescending(run => run.CreatedAt).ThenByDescending(run => run.Id).Skip(offset).Take(pageSize).Select(run => run.Id)
            join run in db.Runs on id equals run.Id
            join dataset in db.Datasets on run.DatasetId equals dataset.Id
            join model in db.Models on run.ModelId equals model.Id
            select new PageRow(run.Id, run.Status, run.StopReason, run.DatasetId, dataset.Name, run.ModelId, model.Name, model.Version,
                EF.Property<string?>(run, RunConfiguration.OptimizerType), EF.Property<int?>(run, RunConfiguration.SpecEpochs),
                run.EpochsCompleted, run.LastTestAccuracy, run.BestTestAccuracy, run.BestValidationAccuracy,
                run.CreatedAt, run.CreatedBy, run.StartedAt, run.FinishedAt, db.Runs.Count())));

    /// <summary>What the list reads of a run, and how many runs the filter lets through in all.</summary>
    private sealed record PageRow(
        Guid Id, RunStatus Status, StopReason? StopReason, Guid DatasetId, string DatasetName, Guid ModelId, string ModelName, int ModelVersion,
        string? Optimizer, int? Epochs, int EpochsCompleted, double? LastTestAccuracy, double? BestTestAccuracy, double? BestValidationAccuracy,
        DateTimeOffset CreatedAt, string? CreatedBy, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, int TotalCount)
    {
        public RunListItem ToListItem(int? queuePosition) => new(
            Id, Status, StopReason, DatasetId, DatasetName, ModelId, ModelName, ModelVersion, Optimizer ?? "", EpochsCompleted, Epochs ?? 0,
            LastTestAccuracy, BestTestAccuracy, queuePosition, CreatedAt, CreatedBy, StartedAt, FinishedAt)
        {
            BestValidationAccuracy = BestValidationAccuracy,
        };
    }

    public async Task<RunView?> GetAsync(Guid id, CancellationToken cancellationToken)
    {
        await db.Database.OpenConnectionAsync(cancellationToken);
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
        var metrics = await EpochsOf.For(db)(db, id).ToListAsync(cancellationToken);
        var trainedBy = await TrainedByAsync(id, cancellationToken);
        var found = row.run;
        var queuePosition = found.Status == RunStatus.Queued
            ? (await QueuePositionsAsync([(found.Id, found.CreatedAt)], cancellationToken)).GetValueOrDefault(found.Id)
            : null;
        return new RunView(found.Id, found.Status, found.StopReason, found.Error, found.DatasetId, row.DatasetName, found.ModelId, row.ModelName, row.Version,
            found.Spec, queuePosition, found.CancelRequested, found.EpochsCompleted, found.LastTestAccuracy, found.BestTestAccuracy, found.BestEpoch,
            metrics.LastOrDefault(), found.CreatedAt, found.CreatedBy, found.StartedAt, found.FinishedAt,
            found.StartedAt is { } started ? (started - found.CreatedAt).TotalSeconds : null,
            found.StartedAt is { } start && found.FinishedAt is { } end ? (end - start).TotalSeconds : null,
            found.Resumes, found.Environment, trainedBy, found.Evaluation, metrics)
        {
            BestValidationAccuracy = found.BestValidationAccuracy,
            SweepId = found.SweepId,
            TrialNumber = found.TrialNumber,
            TrialParameters = found.TrialParameters,
            Pruning = found.Pruning,
        };
    }

    private async Task<List<WorkerEpochs>> TrainedByAsync(Guid id, CancellationToken cancellationToken)
    {
        var epochs = await db.EpochMetrics.AsNoTracking().OfRun(id).OrderBy(metric => metric.Epoch)
            .Select(metric => new { metric.Epoch, Worker = EF.Property<string?>(metric, EpochMetricColumns.Worker) })
            .ToListAsync(cancellationToken);
        var ranges = new List<WorkerEpochs>();
        foreach (var epoch in epochs)
        {
            WorkerEpochs.Add(ranges, epoch.Worker, epoch.Epoch);
        }
        return ranges;
    }

    public async Task<RunMetricSeries?> MetricsAsync(Guid id, CancellationToken cancellationToken)
    {
        await db.Database.OpenConnectionAsync(cancellationToken);
        var epochs = await EpochsOf.For(db)(db, id).ToListAsync(cancellationToken);
        // Epochs are deleted with their run: only a run without any may not exist.
        if (epochs.Count == 0 && !await RunExists.For(db)(db, id, cancellationToken))
        {
            return null;
        }
        var batches = await BatchesOf.For(db)(db, id).ToListAsync(cancellationToken);
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
            new BatchSeries([.. batches.Select(b => b.Step)], [.. batches.Select(b => b.Epoch)], [.. batches.Select(b => b.Batch)], [.. batches.Select(b => b.Loss)]))
        {
            ValidationLoss = [.. epochs.Select(m => m.ValidationLoss)],
            ValidationAccuracy = [.. epochs.Select(m => m.ValidationAccuracy)],
        };
    }

    public async Task<Page<RunLogLine>?> LogsAsync(Guid id, int page, int pageSize, CancellationToken cancellationToken)
    {
        await db.Database.OpenConnectionAsync(cancellationToken);
        if (!await RunExists.For(db)(db, id, cancellationToken))
        {
            return null;
        }
        var lines = db.RunLogs.AsNoTracking().Where(entry => entry.RunId == id);
        var total = await lines.CountAsync(cancellationToken);
        var items = await lines.OrderBy(entry => entry.Id)
            .PageOf(page, pageSize)
            .Select(entry => new RunLogLine(entry.Id, entry.Timestamp, entry.Level, entry.Message))
            .ToListAsync(cancellationToken);
        return new Page<RunLogLine>(items, page, pageSize, total);
    }

    public async Task<RunLayerSeries?> LayersAsync(Guid id, long? from, long? to, string? layer, CancellationToken cancellationToken)
    {
        await db.Database.OpenConnectionAsync(cancellationToken);
        if (!await RunExists.For(db)(db, id, cancellationToken))
        {
            return null;
        }
        var steps = db.LayerSnapshots.AsNoTracking().Where(step => step.RunId == id);
        if (from is { } first)
        {
            steps = steps.Where(step => step.Step >= first);
        }
        if (to is { } last)
        {
            steps = steps.Where(step => step.Step <= last);
        }
        // One more than an answer holds tells whether there is more, and where it starts.
        var snapshots = await steps.OrderBy(step => step.Step).Take(RunLayerSeries.MaxSteps + 1).Select(step => step.Snapshot).ToListAsync(cancellationToken);
        long? next = snapshots.Count > RunLayerSeries.MaxSteps ? snapshots[RunLayerSeries.MaxSteps].Step : null;
        return RunLayerSeries.From([.. snapshots.Take(RunLayerSeries.MaxSteps)], next, layer);
    }

    private static string EscapeLike(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);

    // A run's metrics are read as often as its list: compiled, like NewestFirstPage.
    private static readonly CompiledPerModel<Func<ExperimentsDbContext, Guid, CancellationToken, Task<bool>>> RunExists = new(() =>
        EF.CompileAsyncQuery((ExperimentsDbContext db, Guid id, CancellationToken cancellationToken) => db.Runs.Any(run => run.Id == id)));

    private static readonly CompiledPerModel<Func<ExperimentsDbContext, Guid, IAsyncEnumerable<EpochMetric>>> EpochsOf = new(() =>
        EF.CompileAsyncQuery<ExperimentsDbContext, Guid, EpochMetric>((db, id) =>
            db.EpochMetrics.AsNoTracking().Where(metric => EF.Property<Guid>(metric, EpochMetricColumns.RunId) == id).OrderBy(metric => metric.Epoch)));

    private static readonly CompiledPerModel<Func<ExperimentsDbContext, Guid, IAsyncEnumerable<BatchMetric>>> BatchesOf = new(() =>
        EF.CompileAsyncQuery<ExperimentsDbContext, Guid, BatchMetric>((db, id) =>
            db.BatchMetrics.AsNoTracking().Where(metric => metric.RunId == id).OrderBy(metric => metric.Step)));

    /// <summary>
    /// Where queued runs stand in the queue, which workers take oldest first: the number of queued runs created
    /// before the earliest of them, plus their order among the queued runs of their own time span.
    /// </summary>
    private async Task<Dictionary<Guid, int?>> QueuePositionsAsync(IReadOnlyList<(Guid Id, DateTimeOffset CreatedAt)> queued, CancellationToken cancellationToken)
    {
        if (queued.Count == 0)
        {
            return [];
        }
        var first = queued.Min(run => run.CreatedAt);
        var last = queued.Max(run => run.CreatedAt);
        var queue = db.Runs.AsNoTracking().Where(run => run.Status == RunStatus.Queued);
        var before = await queue.CountAsync(run => run.CreatedAt < first, cancellationToken);
        var span = await queue.Where(run => run.CreatedAt >= first && run.CreatedAt <= last)
            .OrderBy(run => run.CreatedAt).ThenBy(run => run.Id)
            .Select(run => run.Id)
            .ToListAsync(cancellationToken);
        var wanted = queued.Select(run => run.Id).ToHashSet();
        return span.Select((id, index) => (id, index))
            .Where(entry => wanted.Contains(entry.id))
            .ToDictionary(entry => entry.id, entry => (int?)(before + entry.index + 1));
    }
}
