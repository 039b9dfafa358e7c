using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json;
using Experiments.Api.Access;
using Experiments.Api.Hosting;
using Experiments.Api.Persistence;
using Experiments.Api.Runs;
using Experiments.Domain;
using Experiments.Domain.Access;
using Experiments.Domain.Models;
using Experiments.Domain.Sweeps;
using Experiments.Domain.Validation;
using Experiments.Domain.Workers;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Experiments.Api.Sweeps;

public static class SweepsApi
{
    public static IEndpointRouteBuilder MapSweeps(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/sweeps").WithTags("Sweeps").RefuseUnknownQueryParameters().AnswerProblemsAsProblemJson().RequireAuthorization(Policies.Viewer);
        group.MapPost("/", Create)
            .WithName("createSweep")
            .RequireAuthorization(Policies.Editor)
            .WithSummary("Search hyperparameters over many runs")
            .WithDescription("A base run spec, the fields to search by path (`optimizer.lr`, `batchSize`, `modelId`, `layers[2].outFeatures`; each a choice "
                + "of values, or options with a sub-space of their own, or a uniform, logUniform, int or logInt range), a method (grid, random or tpe), "
                + "a metric and goal (validationAccuracy, maximized, by default: trials then hold 10% of training out unless the base says otherwise), "
                + "a budget (maxTrials, concurrency, maxEpochs) and early termination (asha, median or none). Before anything starts, every choice "
                + "value and both ends of every range are checked as a trial would be, with the same checks as POST /api/runs; a value that fails is "
                + "refused naming its field. Answers 201 with the sweep; its first trials are queued. Trials are ordinary runs, tagged with the sweep.");
        group.MapGet("/", List).WithName("listSweeps").Paged().WithSummary("List sweeps, newest first");
        group.MapGet("/{id:guid}", Get)
            .WithName("getSweep")
            .WithSummary("A sweep: its trials with their values and scores, the best so far, the budget used, the epochs early termination saved, and each field's importance");
        group.MapPost("/{id:guid}/cancel", Cancel)
            .WithName("cancelSweep")
            .RequireAuthorization(Policies.Editor)
            .WithSummary("Cancel a sweep")
            .WithDescription("Its queued trials are cancelled at once and its running ones stop within a batch (on another node within about a second); "
                + "no trial starts after. Answers 202 with the sweep, which ends cancelled once no trial is active; 409 when it already finished.");
        return app;
    }

    public static async Task<Results<Created<SweepView>, ValidationProblem, Conflict<ProblemDetails>>> Create(
        SweepSpec? spec,
        ClaimsPrincipal user,
        ExperimentsDbContext db,
        Deployment deployment,
        IWorkerQueries workers,
        IOptions<ExperimentsOptions> options,
        SweepController controller,
        ISweepQueries queries,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var dataset = spec?.Base is { DatasetId: var datasetId } && datasetId != Guid.Empty
            ? await db.Datasets.AsNoTracking().FirstOrDefaultAsync(d => d.Id == datasetId, cancellationToken)
            : null;
        var resolved = SweepSpecValidator.Resolve(spec, RandomNumberGenerator.GetInt32(int.MaxValue), dataset?.Task, errors);
        if (resolved is { } sweep)
        {
            await CheckTrialsAsync(sweep.Spec, sweep.Space, db, deployment, workers, options.Value, errors, cancellationToken);
        }
        else if (spec?.Base is not null)
        {
            // The base is checked even when the rest of the sweep is not valid, so that one answer lists every problem.
            var baseErrors = new ValidationErrors();
            await RunSpecChecks.CheckAsync(spec.Base, 0, computesHere: false, db, deployment, workers, options.Value, baseErrors, cancellationToken);
            AddUnder("base", baseErrors, errors);
        }
        if (!errors.IsEmpty || resolved is null)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary(), title: "The sweep is not valid.");
        }

        var created = new Sweep(Guid.NewGuid(), resolved.Value.Spec, time.GetUtcNow());
        var caller = Caller.Of(user);
        created.AttributeTo(caller.Name);
        db.Sweeps.Add(created);
        db.Audit(caller, AuditActions.SweepCreate, $"sweeps/{created.Id}", $"{resolved.Value.Spec.Method} over {resolved.Value.Space.Dimensions.Count} fields", created.CreatedAt);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            db.ChangeTracker.Clear();
            if (await db.Datasets.AnyAsync(d => d.Id == created.DatasetId, CancellationToken.None))
            {
                throw;
            }
            // The dataset was deleted between the checks above and this insert.
            return TypedResults.Conflict(new ProblemDetails
            {
                Status = StatusCodes.Status409Conflict,
                Title = "The sweep's dataset was deleted meanwhile.",
                Detail = $"dataset {created.DatasetId} was deleted while the sweep was being created; nothing was started.",
            });
        }
        await controller.AdvanceAsync(created.Id, CancellationToken.None);
        return TypedResults.Created($"/api/sweeps/{created.Id}", (await queries.GetAsync(created.Id, CancellationToken.None))!);
    }

    /// <summary>
    /// Checks the base and every probe trial (<see cref="TrialSpecs.Probes"/>) with the checks of <c>POST /api/runs</c>; a
    /// failing value is reported under its field with the value and what the run checks said.
    /// </summary>
    private static async Task CheckTrialsAsync(
        SweepSpec spec, SearchSpace space, ExperimentsDbContext db, Deployment deployment, IWorkerQueries workers, ExperimentsOptions options,
        ValidationErrors errors, CancellationToken cancellationToken)
    {
        var baseErrors = new ValidationErrors();
        var checkedBase = await RunSpecChecks.CheckAsync(spec.Base, spec.Seed!.Value, computesHere: false, db, deployment, workers, options, baseErrors, cancellationToken);
        if (checkedBase is null)
        {
            AddUnder("base", baseErrors, errors);
            return;
        }
        var models = new Dictionary<Guid, ModelDefinition?> { [checkedBase.Model.Id] = checkedBase.Model };
        async Task<ModelDefinition?> ModelAsync(Guid id)
        {
            if (!models.TryGetValue(id, out var model))
            {
                model = await db.Models.AsNoTracking().FirstOrDefaultAsync(m => m.Id == id, cancellationToken);
                models[id] = model;
            }
            return model;
        }
        // One failing value per field is enough to report; the rest of its values are not checked.
        var failed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (d, value, values) in TrialSpecs.Probes(space))
        {
            var key = space.Dimensions[d].Key;
            if (failed.Contains(key))
            {
                continue;
            }
            var probeErrors = new ValidationErrors();
            var trial = await TrialSpecs.BuildAsync(spec.Base!, space, values, ModelAsync, probeErrors);
            if (trial is not null)
            {
                var runErrors = new ValidationErrors();
                var probeSpec = trial.Spec with { Seed = trial.Spec.Seed ?? spec.Seed };
                // The dataset and models were read once: a probe costs no query.
                await RunSpecChecks.CheckAsync(probeSpec, spec.Seed!.Value, computesHere: false, db, deployment, workers, options, runErrors, cancellationToken,
                    checkedBase.Dataset, TrialSpecs.ModelOf(trial));
                foreach (var (field, messages) in runErrors.ToDictionary())
                {
                    foreach (var message in messages)
                    {
                        probeErrors.Add(key, $"a trial with {space.Dimensions[d].Path} = {value.GetRawText()} fails the run's checks: {field}: {message}");
                    }
                }
            }
            if (!probeErrors.IsEmpty)
            {
                failed.Add(key);
                errors.AddRange(probeErrors);
            }
        }
    }

    private static void AddUnder(string prefix, ValidationErrors from, ValidationErrors to)
    {
        foreach (var (field, messages) in from.ToDictionary())
        {
            foreach (var message in messages)
            {
                to.Add(field == "body" ? prefix : $"{prefix}.{field}", message);
            }
        }
    }

    public static async Task<Ok<Page<SweepListItem>>> List(ISweepQueries queries, int? page, int? pageSize, CancellationToken cancellationToken)
    {
        var (number, size) = Paging.Normalize(page, pageSize);
        return TypedResults.Ok(await queries.ListAsync(number, size, cancellationToken));
    }

    public static async Task<Results<Ok<SweepView>, NotFound<ProblemDetails>>> Get(Guid id, ISweepQueries queries, CancellationToken cancellationToken) =>
        await queries.GetAsync(id, cancellationToken) is { } sweep ? TypedResults.Ok(sweep) : Problems.NotFound("sweep", id);

    public static async Task<Results<Accepted<SweepView>, NotFound<ProblemDetails>, Conflict<ProblemDetails>, ProblemHttpResult>> Cancel(
        Guid id, ClaimsPrincipal user, ExperimentsDbContext db, SweepController controller, ISweepQueries queries, TimeProvider time, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var sweep = await db.Sweeps.FirstOrDefaultAsync(s => s.Id == id, cancellationToken);
            if (sweep is null)
            {
                return Problems.NotFound("sweep", id);
            }
            var caller = Caller.Of(user);
            if (!caller.MayChange(sweep.CreatedBy))
            {
                return Problems.NotYours(caller, "sweep", id, sweep.CreatedBy);
            }
            if (!sweep.RequestCancel())
            {
                return TypedResults.Conflict(new ProblemDetails
                {
                    Status = StatusCodes.Status409Conflict,
                    Title = "The sweep already finished.",
                    Detail = $"Sweep {id} is {JsonNamingPolicy.CamelCase.ConvertName(sweep.Status.ToString())}; only a running sweep can be cancelled.",
                });
            }
            db.Audit(caller, AuditActions.SweepCancel, $"sweeps/{id}", null, time.GetUtcNow());
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateConcurrencyException) when (attempt < 3)
            {
                // A controller finished it meanwhile, or another cancel landed: read it again.
                db.ChangeTracker.Clear();
                continue;
            }
            await controller.AdvanceAsync(id, CancellationToken.None);
            return TypedResults.Accepted($"/api/sweeps/{id}", (await queries.GetAsync(id, CancellationToken.None))!);
        }
    }
}
