using Experiments.Api.Persistence;
using Experiments.Domain.Runs;
using Experiments.Domain.Sweeps;
using Microsoft.EntityFrameworkCore;

namespace Experiments.Api.Sweeps;

/// <summary>
/// Judges one trial after each stored epoch by its sweep's early termination, against the other trials' stored epochs. The
/// first decision to stop is kept (<see cref="Decision"/>); the job then stops the trial, which ends pruned.
/// </summary>
public sealed class TrialPruner
{
    private readonly IDbContextFactory<ExperimentsDbContext> _databases;
    private readonly Run _run;
    private readonly SweepSpec _sweep;

    private TrialPruner(IDbContextFactory<ExperimentsDbContext> databases, Run run, SweepSpec sweep)
    {
        _databases = databases;
        _run = run;
        _sweep = sweep;
    }

    /// <summary>The decision to stop the trial, once made.</summary>
    public TrialPruning? Decision { get; private set; }

    /// <summary>A pruner for <paramref name="run"/>; null when it is no trial or its sweep stops none early.</summary>
    public static async Task<TrialPruner?> ForAsync(ExperimentsDbContext db, Run run, IDbContextFactory<ExperimentsDbContext> databases, CancellationToken cancellationToken)
    {
        if (run.SweepId is not { } sweepId)
        {
            return null;
        }
        var sweep = await db.Sweeps.AsNoTracking().Where(s => s.Id == sweepId).Select(s => s.Spec).FirstOrDefaultAsync(cancellationToken);
        return sweep?.EarlyTermination?.Type is null or EarlyTerminationType.None ? null : new TrialPruner(databases, run, sweep);
    }

    /// <summary>Whether the trial is to stop after <paramref name="epoch"/>, which is stored.</summary>
    public async Task<bool> JudgeAsync(EpochMetric epoch, CancellationToken cancellationToken)
    {
        var rule = _sweep.EarlyTermination!;
        var metric = _sweep.Metric!.Value;
        if (Decision is not null || !EarlyTermination.Judges(rule, epoch.Epoch, _run.Spec.Epochs!.Value) || SweepScores.ValueOf(epoch, metric) is not { } value)
        {
            return false;
        }
        await using var db = await _databases.CreateDbContextAsync(cancellationToken);
        var others = await SweepScores.AtEpochAsync(db, _run.SweepId!.Value, metric, epoch.Epoch, _run.Id, cancellationToken);
        var own = await SweepScores.OfRunAsync(db, _run.Id, metric, epoch.Epoch, cancellationToken);
        var goal = _sweep.Goal!.Value;
        var bestSoFar = own.Append(value).Aggregate((best, next) => EarlyTermination.Worse(best, next, goal) ? next : best);
        Decision = EarlyTermination.Judge(rule, metric, goal, epoch.Epoch, value, bestSoFar, others);
        return Decision is not null;
    }
}
