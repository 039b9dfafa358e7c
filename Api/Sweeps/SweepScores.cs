using System.Linq.Expressions;
using Experiments.Api.Persistence;
using Experiments.Domain.Runs;
using Experiments.Domain.Sweeps;
using Microsoft.EntityFrameworkCore;

namespace Experiments.Api.Sweeps;

/// <summary>A sweep's metric read from its trials' stored epochs, in the database.</summary>
public static class SweepScores
{
    /// <summary>Each trial's score: the best value of the metric over its epochs; trials without one are absent.</summary>
    public static async Task<Dictionary<Guid, double>> OfAsync(ExperimentsDbContext db, Guid sweepId, SweepMetric metric, SweepGoal goal, CancellationToken cancellationToken)
    {
        var extremes = await ExtremesAsync(db, [sweepId], cancellationToken);
        return extremes.Where(pair => pair.Value.Score(metric, goal) is not null).ToDictionary(pair => pair.Key, pair => pair.Value.Score(metric, goal)!.Value);
    }

    /// <summary>
    /// The lowest and highest value of every metric over each trial's epochs, for the trials of <paramref name="sweepIds"/>, in
    /// one query: enough for any sweep's score, whatever its metric and goal.
    /// </summary>
    public static async Task<Dictionary<Guid, TrialExtremes>> ExtremesAsync(ExperimentsDbContext db, IReadOnlyCollection<Guid> sweepIds, CancellationToken cancellationToken)
    {
        var trials = db.Runs.Where(run => run.SweepId != null && sweepIds.Contains(run.SweepId.Value)).Select(run => run.Id);
        var rows = await db.EpochMetrics.AsNoTracking()
            .Where(row => trials.Contains(EF.Property<Guid>(row, EpochMetricColumns.RunId)))
            .GroupBy(row => EF.Property<Guid>(row, EpochMetricColumns.RunId))
            .Select(group => new TrialExtremes
            {
                RunId = group.Key,
                MaxValidationAccuracy = group.Max(row => row.ValidationAccuracy),
                MinValidationAccuracy = group.Min(row => row.ValidationAccuracy),
                MaxValidationLoss = group.Max(row => row.ValidationLoss),
                MinValidationLoss = group.Min(row => row.ValidationLoss),
                MaxTestAccuracy = group.Max(row => row.TestAccuracy),
                MinTestAccuracy = group.Min(row => row.TestAccuracy),
                MaxTestLoss = group.Max(row => row.TestLoss),
                MinTestLoss = group.Min(row => row.TestLoss),
            })
            .ToListAsync(cancellationToken);
        return rows.ToDictionary(row => row.RunId);
    }

    /// <summary>The metric at <paramref name="epoch"/> of every trial of the sweep but <paramref name="exceptRunId"/> that stored it.</summary>
    public static async Task<List<double>> AtEpochAsync(ExperimentsDbContext db, Guid sweepId, SweepMetric metric, int epoch, Guid exceptRunId, CancellationToken cancellationToken)
    {
        var values = await OfTrials(db, sweepId).Where(row => row.Epoch == epoch && EF.Property<Guid>(row, EpochMetricColumns.RunId) != exceptRunId)
            .Select(Pair(metric)).Where(pair => pair.Value != null).Select(pair => pair.Value!.Value).ToListAsync(cancellationToken);
        return values;
    }

    /// <summary>The metric over one run's epochs up to <paramref name="epoch"/>.</summary>
    public static async Task<List<double>> OfRunAsync(ExperimentsDbContext db, Guid runId, SweepMetric metric, int epoch, CancellationToken cancellationToken) =>
        await db.EpochMetrics.AsNoTracking().OfRun(runId).Where(row => row.Epoch <= epoch).Select(Pair(metric))
            .Where(pair => pair.Value != null).Select(pair => pair.Value!.Value).ToListAsync(cancellationToken);

    private static IQueryable<EpochMetric> OfTrials(ExperimentsDbContext db, Guid sweepId)
    {
        var trials = db.Runs.Where(run => run.SweepId == sweepId).Select(run => run.Id);
        return db.EpochMetrics.AsNoTracking().Where(row => trials.Contains(EF.Property<Guid>(row, EpochMetricColumns.RunId)));
    }

    /// <summary>A member-initialised projection, which EF can filter and group after (a constructor call it cannot).</summary>
    private sealed class RunValue
    {
        public Guid RunId { get; init; }

        public double? Value { get; init; }
    }

    private static Expression<Func<EpochMetric, RunValue>> Pair(SweepMetric metric) => metric switch
    {
        SweepMetric.ValidationAccuracy => row => new RunValue { RunId = EF.Property<Guid>(row, EpochMetricColumns.RunId), Value = row.ValidationAccuracy },
        SweepMetric.ValidationLoss => row => new RunValue { RunId = EF.Property<Guid>(row, EpochMetricColumns.RunId), Value = row.ValidationLoss },
        SweepMetric.TestAccuracy => row => new RunValue { RunId = EF.Property<Guid>(row, EpochMetricColumns.RunId), Value = row.TestAccuracy },
        _ => row => new RunValue { RunId = EF.Property<Guid>(row, EpochMetricColumns.RunId), Value = row.TestLoss },
    };

    /// <summary>The metric's value in an epoch the trainer reported.</summary>
    public static double? ValueOf(EpochMetric epoch, SweepMetric metric) => metric switch
    {
        SweepMetric.ValidationAccuracy => epoch.ValidationAccuracy,
        SweepMetric.ValidationLoss => epoch.ValidationLoss,
        SweepMetric.TestAccuracy => epoch.TestAccuracy,
        _ => epoch.TestLoss,
    };

}

/// <summary>The extremes of a trial's epoch metrics (<see cref="SweepScores.ExtremesAsync"/>).</summary>
public sealed class TrialExtremes
{
    public Guid RunId { get; init; }

    public double? MaxValidationAccuracy { get; init; }

    public double? MinValidationAccuracy { get; init; }

    public double? MaxValidationLoss { get; init; }

    public double? MinValidationLoss { get; init; }

    public double? MaxTestAccuracy { get; init; }

    public double? MinTestAccuracy { get; init; }

    public double? MaxTestLoss { get; init; }

    public double? MinTestLoss { get; init; }

    /// <summary>The trial's score: its best value of <paramref name="metric"/> for <paramref name="goal"/>.</summary>
    public double? Score(SweepMetric metric, SweepGoal goal) => (metric, goal) switch
    {
        (SweepMetric.ValidationAccuracy, SweepGoal.Maximize) => MaxValidationAccuracy,
        (SweepMetric.ValidationAccuracy, _) => MinValidationAccuracy,
        (SweepMetric.ValidationLoss, SweepGoal.Maximize) => MaxValidationLoss,
        (SweepMetric.ValidationLoss, _) => MinValidationLoss,
        (SweepMetric.TestAccuracy, SweepGoal.Maximize) => MaxTestAccuracy,
        (SweepMetric.TestAccuracy, _) => MinTestAccuracy,
        (SweepMetric.TestLoss, SweepGoal.Maximize) => MaxTestLoss,
        _ => MinTestLoss,
    };
}
