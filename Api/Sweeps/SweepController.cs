using System.Text.Json;
using Experiments.Api.Hosting;
using Experiments.Api.Models;
using Experiments.Api.Persistence;
using Experiments.Api.Runs;
using Experiments.Domain.Access;
using Experiments.Domain.Runs;
using Experiments.Domain.Sweeps;
using Experiments.Domain.Validation;
using Experiments.Domain.Workers;
using Hangfire;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Experiments.Api.Sweeps;

/// <summary>
/// Moves sweeps forward: starts trials while fewer than the concurrency are active and the budget allows, cancels a
/// cancelled sweep's trials, and ends a sweep when it has nothing left to run. It holds no state of its own: each pass reads
/// the sweep and its trials from the database, and trial N is a run with the sweep's id and number N, which a unique index
/// lets exist once. So any number of passes, in any number of processes, after any restart, start each trial exactly once.
/// Called when a sweep is created or cancelled, when a trial finishes, and every <see cref="ExperimentsOptions.SweepControlInterval"/>
/// by <see cref="SweepSupervisor"/>.
/// </summary>
public sealed class SweepController(
    IServiceScopeFactory scopes,
    IDbContextFactory<ExperimentsDbContext> databases,
    IBackgroundJobClient jobs,
    IHubContext<RunsHub, IRunsClient> hub,
    RunCancellations cancellations,
    TimeProvider time,
    ILogger<SweepController> logger)
{
    /// <summary>A sweep whose first this many trials all failed starts no more.</summary>
    public const int FailuresBeforeGivingUp = 5;

    /// <summary>Sweeps advanced per pass of <see cref="AdvanceAllAsync"/>; more wait for the next.</summary>
    public const int MaxSweepsPerPass = 200;

    public async Task AdvanceAllAsync(CancellationToken cancellationToken)
    {
        List<Guid> running;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<ExperimentsDbContext>();
            running = await db.Sweeps.AsNoTracking().Where(sweep => sweep.Status == SweepStatus.Running)
                .OrderBy(sweep => sweep.CreatedAt).Select(sweep => sweep.Id).Take(MaxSweepsPerPass).ToListAsync(cancellationToken);
        }
        foreach (var id in running)
        {
            await AdvanceAsync(id, cancellationToken);
        }
    }

    /// <summary><see cref="AdvanceAsync"/>, with a failure logged: the supervisor's next pass tries again.</summary>
    public async Task AdvanceQuietlyAsync(Guid sweepId)
    {
        try
        {
            await AdvanceAsync(sweepId, CancellationToken.None);
        }
        catch (Exception exception)
        {
            logger.LogWarning(exception, "Advancing sweep {SweepId} failed; the next pass tries again.", sweepId);
        }
    }

    /// <summary>One pass over one sweep. Safe to call at any time, from anywhere, as often as wanted.</summary>
    public async Task AdvanceAsync(Guid sweepId, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ExperimentsDbContext>();
        var sweep = await db.Sweeps.FirstOrDefaultAsync(s => s.Id == sweepId, cancellationToken);
        if (sweep is null || sweep.IsFinished)
        {
            return;
        }
        var trials = await db.Runs.AsNoTracking().Where(run => run.SweepId == sweepId)
            .Select(run => new { run.Id, Number = run.TrialNumber!.Value, run.Status, run.EpochsCompleted, run.Error })
            .ToListAsync(cancellationToken);
        var active = trials.Count(trial => !trial.Status.IsFinished());
        if (sweep.CancelRequested)
        {
            foreach (var trial in trials.Where(trial => !trial.Status.IsFinished()))
            {
                await CancelTrialAsync(trial.Id, cancellationToken);
            }
            active = await db.Runs.CountAsync(run => run.SweepId == sweepId && (run.Status == RunStatus.Queued || run.Status == RunStatus.Running), cancellationToken);
        }
        var spec = sweep.Spec;
        var budget = spec.Budget!;
        var next = trials.Count == 0 ? 1 : trials.Max(trial => trial.Number) + 1;
        var epochsUsed = trials.Sum(trial => trial.EpochsCompleted);
        // A sweep whose first trials all failed (the data, the model or the space is wrong) stops instead of failing every trial.
        var hopeless = trials.Count >= FailuresBeforeGivingUp && trials.All(trial => trial.Status == RunStatus.Failed);
        var exhausted = sweep.CancelRequested || hopeless || next > budget.MaxTrials || epochsUsed >= budget.MaxEpochs;
        if (!exhausted && active < budget.Concurrency)
        {
            var space = SearchSpace.Parse(spec.Parameters, spec.Method!.Value, new ValidationErrors())!;
            while (active < budget.Concurrency && !exhausted)
            {
                var values = await ValuesOfAsync(db, sweep, space, next, cancellationToken);
                if (values is null)
                {
                    exhausted = true;
                    break;
                }
                var started = await StartTrialAsync(scope.ServiceProvider, db, sweep, space, next, values, cancellationToken);
                if (started is null)
                {
                    // Another controller started this trial first; it carries on from there.
                    return;
                }
                next++;
                exhausted = next > budget.MaxTrials;
                if (started == RunStatus.Failed)
                {
                    // Failed at its checks: the next pass goes on, so that a run of failures is seen before more are made.
                    return;
                }
                active++;
            }
        }
        if (active > 0 || !exhausted)
        {
            return;
        }
        var scores = await SweepScores.OfAsync(db, sweepId, spec.Metric!.Value, spec.Goal!.Value, cancellationToken);
        var firstError = await db.Runs.AsNoTracking().Where(run => run.SweepId == sweepId && run.Error != null)
            .OrderBy(run => run.TrialNumber).Select(run => run.Error).FirstOrDefaultAsync(cancellationToken);
        // Read again: saving a model version may have cleared what this context tracked, and a cancel may have landed.
        db.ChangeTracker.Clear();
        sweep = await db.Sweeps.FirstAsync(s => s.Id == sweepId, cancellationToken);
        if (sweep.IsFinished)
        {
            return;
        }
        sweep.Finish(scores.Count > 0, firstError is null ? null
            : hopeless ? $"its first {trials.Count} trials failed, so it stopped; the first: {firstError}" : $"every trial failed; the first: {firstError}", time.GetUtcNow());
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            logger.LogInformation("Sweep {SweepId} finished as {Status}.", sweepId, sweep.Status);
        }
        catch (DbUpdateConcurrencyException)
        {
            // Another controller finished it, or a cancel landed meanwhile: the next pass sees which.
        }
    }

    /// <summary>Trial <paramref name="number"/>'s values from the sweep's method; null when the grid has none left.</summary>
    private static async Task<TrialValues?> ValuesOfAsync(ExperimentsDbContext db, Sweep sweep, SearchSpace space, int number, CancellationToken cancellationToken)
    {
        var spec = sweep.Spec;
        switch (spec.Method)
        {
            case SweepMethod.Grid:
                return TrialSampler.Grid(space, spec.Seed!.Value, number);
            case SweepMethod.Random:
                return TrialSampler.Random(space, spec.Seed!.Value, number);
            default:
                var scores = await SweepScores.OfAsync(db, sweep.Id, spec.Metric!.Value, spec.Goal!.Value, cancellationToken);
                var finished = await db.Runs.AsNoTracking()
                    .Where(run => run.SweepId == sweep.Id && (run.Status == RunStatus.Succeeded || run.Status == RunStatus.Failed || run.Status == RunStatus.Cancelled))
                    .OrderBy(run => run.TrialNumber).Select(run => new { run.Id, run.TrialParameters }).ToListAsync(cancellationToken);
                var history = finished.Where(trial => scores.ContainsKey(trial.Id) && trial.TrialParameters is not null)
                    .Select(trial => new ScoredTrial(ValuesOf(space, trial.TrialParameters!), scores[trial.Id])).ToList();
                return TrialSampler.Tpe(space, spec.Seed!.Value, number, history, spec.Goal!.Value);
        }
    }

    /// <summary>A trial's values by dimension, from the parameters it stored by path.</summary>
    public static TrialValues ValuesOf(SearchSpace space, IReadOnlyDictionary<string, JsonElement> parameters)
    {
        var values = new JsonElement?[space.Dimensions.Count];
        for (var d = 0; d < values.Length; d++)
        {
            if (space.IsActive(d, values) && parameters.TryGetValue(space.Dimensions[d].Path.Text, out var value))
            {
                values[d] = value;
            }
        }
        return new TrialValues(values);
    }

    /// <summary>
    /// Creates and queues trial <paramref name="number"/>: answers its status (queued), or null when it exists already. A trial
    /// whose values fail the run checks (a combination the sweep's own checks could not foresee) is stored as failed, with the
    /// reason, and counts.
    /// </summary>
    private async Task<RunStatus?> StartTrialAsync(
        IServiceProvider services, ExperimentsDbContext db, Sweep sweep, SearchSpace space, int number, TrialValues values, CancellationToken cancellationToken)
    {
        var spec = sweep.Spec;
        var now = time.GetUtcNow();
        var errors = new ValidationErrors();
        var trial = await TrialSpecs.BuildAsync(spec.Base!, space, values, id => db.Models.AsNoTracking().FirstOrDefaultAsync(m => m.Id == id, cancellationToken), errors);
        CheckedRunSpec? checkedSpec = null;
        if (trial is not null)
        {
            var runSpec = trial.Spec with { Seed = trial.Spec.Seed ?? spec.Seed };
            var options = services.GetRequiredService<IOptions<ExperimentsOptions>>().Value;
            var deployment = services.GetRequiredService<Deployment>();
            var workers = services.GetRequiredService<IWorkerQueries>();
            checkedSpec = await RunSpecChecks.CheckAsync(runSpec, spec.Seed!.Value, computesHere: false, db, deployment, workers, options, errors, cancellationToken,
                model: TrialSpecs.ModelOf(trial));
            if (checkedSpec is not null && trial.ChangedLayers is { } layers)
            {
                var caller = new Caller(sweep.CreatedBy, Role.Editor);
                var version = await ModelVersions.SaveAsync(db, TrialSpecs.ModelName(trial.Model, sweep.Id), checkedSpec.Layers, caller, now, cancellationToken);
                if (version is null)
                {
                    // Saves under the name kept taking the next version: the next pass tries this trial again.
                    return null;
                }
                checkedSpec = checkedSpec with { Spec = checkedSpec.Spec with { ModelId = version.Value.Model.Id } };
            }
        }
        var run = new Run(Guid.NewGuid(), checkedSpec?.Spec ?? trial?.Spec ?? spec.Base!, now);
        run.AttributeTo(sweep.CreatedBy);
        run.MakeTrial(sweep.Id, number, trial?.Parameters ?? Parameters(space, values));
        if (checkedSpec is null)
        {
            run.Fail($"trial {number}'s values fail the run's checks: {errors}", now);
        }
        db.Runs.Add(run);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException exception) when (ExperimentsDbContext.IsUniqueViolation(exception))
        {
            db.ChangeTracker.Clear();
            return null;
        }
        if (checkedSpec is not null)
        {
            TrainRunJob.Enqueue(jobs, run);
        }
        logger.LogInformation("Sweep {SweepId} started trial {Number} as run {RunId}.", sweep.Id, number, run.Id);
        await hub.RunAndAll(run.Id).RunStatusChanged(new RunStatusChanged(run.Id, run.Status, run.StopReason, run.Error, now)).SendQuietlyAsync(logger);
        return run.Status;
    }

    private static Dictionary<string, JsonElement> Parameters(SearchSpace space, TrialValues values) =>
        Enumerable.Range(0, space.Dimensions.Count).Where(d => values.Values[d] is not null)
            .ToDictionary(d => space.Dimensions[d].Path.Text, d => values.Values[d]!.Value, StringComparer.Ordinal);

    /// <summary>Cancels a queued trial at once; asks a running one's worker to stop (here at once, elsewhere within about a second).</summary>
    private async Task CancelTrialAsync(Guid runId, CancellationToken cancellationToken)
    {
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        for (var attempt = 0; attempt < 3; attempt++)
        {
            db.ChangeTracker.Clear();
            var run = await db.Runs.FirstOrDefaultAsync(r => r.Id == runId, cancellationToken);
            if (run is null || run.IsFinished || run.CancelRequested || !run.Cancel(time.GetUtcNow()))
            {
                break;
            }
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateConcurrencyException)
            {
                continue;
            }
            if (run.Status == RunStatus.Cancelled)
            {
                await hub.RunAndAll(runId).RunStatusChanged(new RunStatusChanged(runId, run.Status, run.StopReason, null, time.GetUtcNow())).SendQuietlyAsync(logger);
            }
            break;
        }
        cancellations.Cancel(runId);
    }
}
