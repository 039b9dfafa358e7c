using Experiments.Api.Persistence;
using Experiments.Domain;
using Experiments.Domain.Runs;
using Experiments.Domain.Sweeps;
using Microsoft.EntityFrameworkCore;

namespace Experiments.Api.Sweeps;

public sealed class SweepQueries(ExperimentsDbContext db) : ISweepQueries
{
    public async Task<Page<SweepListItem>> ListAsync(int page, int pageSize, CancellationToken cancellationToken)
    {
        var total = await db.Sweeps.CountAsync(cancellationToken);
        var rows = await (
                from sweep in db.Sweeps.AsNoTracking()
                join dataset in db.Datasets on sweep.DatasetId equals dataset.Id
                orderby sweep.CreatedAt descending, sweep.Id descending
                select new { sweep, DatasetName = dataset.Name })
            .PageOf(page, pageSize)
            .ToListAsync(cancellationToken);
        var ids = rows.Select(row => row.sweep.Id).ToList();
        var trials = await db.Runs.AsNoTracking().Where(run => run.SweepId != null && ids.Contains(run.SweepId.Value))
            .Select(run => new { run.Id, SweepId = run.SweepId!.Value, run.Status }).ToListAsync(cancellationToken);
        var extremes = await SweepScores.ExtremesAsync(db, ids, cancellationToken);
        var items = rows.Select(row =>
        {
            var spec = row.sweep.Spec;
            var own = trials.Where(trial => trial.SweepId == row.sweep.Id).ToList();
            var scored = own.Where(trial => extremes.TryGetValue(trial.Id, out var e) && e.Score(spec.Metric!.Value, spec.Goal!.Value) is not null)
                .Select(trial => (trial.Id, Value: extremes[trial.Id].Score(spec.Metric!.Value, spec.Goal!.Value)!.Value)).ToList();
            var best = Best(scored, spec.Goal!.Value);
            return new SweepListItem(row.sweep.Id, row.sweep.Name, row.sweep.Status, spec.Method!.Value, spec.Metric!.Value, spec.Goal!.Value, row.sweep.DatasetId,
                row.DatasetName, own.Count, own.Count(trial => trial.Status.IsFinished()), spec.Budget!.MaxTrials, best?.Value, best?.Id,
                row.sweep.CreatedAt, row.sweep.CreatedBy, row.sweep.FinishedAt);
        }).ToList();
        return new Page<SweepListItem>(items, page, pageSize, total);
    }

    public async Task<SweepView?> GetAsync(Guid id, CancellationToken cancellationToken)
    {
        var row = await (
                from sweep in db.Sweeps.AsNoTracking()
                join dataset in db.Datasets on sweep.DatasetId equals dataset.Id
                where sweep.Id == id
                select new { sweep, DatasetName = dataset.Name })
            .FirstOrDefaultAsync(cancellationToken);
        if (row is null)
        {
            return null;
        }
        var spec = row.sweep.Spec;
        var (metric, goal) = (spec.Metric!.Value, spec.Goal!.Value);
        var runs = await db.Runs.AsNoTracking().Where(run => run.SweepId == id).OrderBy(run => run.TrialNumber).ToListAsync(cancellationToken);
        var extremes = await SweepScores.ExtremesAsync(db, [id], cancellationToken);
        var trials = runs.Select(run => new TrialView(run.TrialNumber!.Value, run.Id, run.Status, run.StopReason,
                run.TrialParameters ?? new Dictionary<string, System.Text.Json.JsonElement>(), run.EpochsCompleted, run.Spec.Epochs ?? 0,
                extremes.TryGetValue(run.Id, out var e) ? e.Score(metric, goal) : null, run.Pruning, run.Error))
            .ToList();
        var best = Best(trials.Where(trial => trial.Value is not null).Select(trial => (trial.RunId, trial.Value!.Value)).ToList(), goal);
        var budget = spec.Budget!;
        var use = new SweepBudgetUse(budget.MaxTrials, trials.Count, budget.Concurrency!.Value, budget.MaxEpochs, trials.Sum(trial => trial.EpochsCompleted),
            trials.Where(trial => trial.StopReason == StopReason.Pruned).Sum(trial => Math.Max(0, trial.Epochs - trial.EpochsCompleted)));
        return new SweepView(row.sweep.Id, row.sweep.Name, row.sweep.Status, row.sweep.Error, row.sweep.CancelRequested, row.sweep.DatasetId, row.DatasetName,
            spec, use, best is null ? null : trials.First(trial => trial.RunId == best.Value.Id), trials, ParameterImportances.Of(trials),
            row.sweep.CreatedAt, row.sweep.CreatedBy, row.sweep.FinishedAt);
    }

    /// <summary>The best of the scored trials; on a tie the earlier trial.</summary>
    private static (Guid Id, double Value)? Best(List<(Guid Id, double Value)> scored, SweepGoal goal)
    {
        (Guid Id, double Value)? best = null;
        foreach (var trial in scored)
        {
            if (best is null || EarlyTermination.Worse(best.Value.Value, trial.Value, goal))
            {
                best = trial;
            }
        }
        return best;
    }
}
