using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json;
using Experiments.Api.Access;
using Experiments.Api.Hosting;
using Experiments.Api.Persistence;
using Experiments.Domain;
using Experiments.Domain.Access;
using Experiments.Domain.Runs;
using Experiments.Domain.Validation;
using Experiments.Domain.Workers;
using Experiments.Training.Runtime;
using Hangfire;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Experiments.Api.Runs;

public static class RunsApi
{
    public static IEndpointRouteBuilder MapRuns(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/runs").WithTags("Runs").RefuseUnknownQueryParameters().AnswerProblemsAsProblemJson().RequireAuthorization(Policies.Viewer);
        group.MapPost("/", Create)
            .WithName("createRun")
            .RequireAuthorization(Policies.Editor)
            .WithSummary("Train a model on a dataset")
            .WithDescription("Checks the whole spec against the dataset and the model before anything is queued, stores the resolved "
                + "spec (defaults filled in, a seed chosen when none was sent) and queues the run; it starts within about a second "
                + "when a worker is free. Answers 202 with the run and its Location. A model over Experiments:MaxModelParameters, or whose "
                + "estimated training memory at the batch size exceeds Experiments:MaxTrainingMemoryBytes or this machine's memory, is refused.");
        group.MapGet("/", List)
            .WithName("listRuns")
            .Paged()
            .DescribesQuery("status", OptionNames<RunStatus>())
            .DescribesQuery("sort", OptionNames<RunSort>(), defaultValue: OptionNames<RunSort>()[0])
            .DescribesQuery("descending", defaultValue: true)
            .WithSummary("List runs, newest first unless sorted otherwise")
            .WithDescription("Filters: `status`, `datasetId`, `modelId`, `sweepId` (a sweep's trials), `createdBy` (a key's name), `q` (part of the dataset or model name). `sort` is createdAt (default), "
                + "status, dataset, model, epochsCompleted or bestTestAccuracy; `descending` is true by default.");
        group.MapGet("/{id:guid}", Get).WithName("getRun").WithSummary("A run: status, why it stopped, resolved spec, environment, evaluation and every epoch's metrics");
        group.MapGet("/{id:guid}/metrics", Metrics).WithName("getRunMetrics").WithSummary("Every finished epoch's metrics (and logged batch losses) as arrays ready to plot");
        group.MapGet("/{id:guid}/layers", Layers)
            .WithName("getRunLayers")
            .WithSummary("What a run with watch recorded inside the model, as series over the watched steps")
            .WithDescription("Per parameter tensor (`layers[0].weight`) the weight and gradient norms, the update-to-weight ratio and the weight and "
                + "gradient histograms as step × bin matrices; per layer (`layers[1]`) the mean and standard deviation of its output and the "
                + "fraction of dead (relu family) or saturated (sigmoid, tanh) units. `from` and `to` bound the steps (inclusive), `layer` keeps one "
                + $"layer's series (`layers[0]` also keeps its parameters). At most {RunLayerSeries.MaxSteps} steps per answer: `nextFrom` is where the "
                + "rest starts. A run without watch answers empty series.");
        group.MapGet("/{id:guid}/logs", Logs).WithName("listRunLogs").Paged().WithSummary("The run's own log, oldest line first");
        group.MapPost("/{id:guid}/cancel", Cancel)
            .WithName("cancelRun")
            .RequireAuthorization(Policies.Editor)
            .WithSummary("Cancel a run")
            .WithDescription("A queued run is cancelled at once. A running run stops within one batch; its metrics and last checkpoint are kept. "
                + "Answers 202 with the run; 409 when it already finished.");
        group.MapRunDiagnostics();
        group.MapTrainedModel();
        group.MapMistakes();
        return app;
    }

    public static async Task<Results<Accepted<RunView>, ValidationProblem, Conflict<ProblemDetails>>> Create(
        RunSpec? spec,
        ClaimsPrincipal user,
        ExperimentsDbContext db,
        IBackgroundJobClient jobs,
        IRunQueries queries,
        Microsoft.AspNetCore.SignalR.IHubContext<RunsHub, IRunsClient> hub,
        ILogger<RunsHub> logger,
        Deployment deployment,
        IWorkerQueries workers,
        IOptions<ExperimentsOptions> options,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var checkedSpec = await RunSpecChecks.CheckAsync(spec, RandomNumberGenerator.GetInt32(int.MaxValue), computesHere: false, db, deployment, workers, options.Value,
            errors, cancellationToken);
        if (checkedSpec is null)
        {
            return Invalid(errors);
        }
        var (resolved, dataset, model) = (checkedSpec.Spec, checkedSpec.Dataset, checkedSpec.Model);

        var run = new Run(Guid.NewGuid(), resolved, time.GetUtcNow());
        var caller = Caller.Of(user);
        run.AttributeTo(caller.Name);
        db.Runs.Add(run);
        db.Audit(caller, AuditActions.RunCreate, $"runs/{run.Id}", $"{dataset.Name} × {model.Name} v{model.Version}", run.CreatedAt);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            db.ChangeTracker.Clear();
            if (await db.Datasets.AnyAsync(d => d.Id == resolved.DatasetId, CancellationToken.None)
                && await db.Models.AnyAsync(m => m.Id == resolved.ModelId, CancellationToken.None))
            {
                throw;
            }
            // The dataset (or model) was deleted between the checks above and this insert.
            return TypedResults.Conflict(new ProblemDetails
            {
                Status = StatusCodes.Status409Conflict,
                Title = "The run's dataset or model was deleted meanwhile.",
                Detail = $"dataset {resolved.DatasetId} or model {resolved.ModelId} was deleted while the run was being created; nothing was queued.",
            });
        }
        try
        {
            TrainRunJob.Enqueue(jobs, run);
        }
        catch
        {
            // Without a job the run would wait forever: take it back and let the caller see the failure.
            db.Runs.Remove(run);
            await db.SaveChangesAsync(CancellationToken.None);
            throw;
        }
        await hub.RunAndAll(run.Id).RunStatusChanged(new RunStatusChanged(run.Id, RunStatus.Queued, null, null, run.CreatedAt)).SendQuietlyAsync(logger);
        var view = await queries.GetAsync(run.Id, cancellationToken);
        return TypedResults.Accepted($"/api/runs/{run.Id}", view!);
    }

    public static async Task<Results<Ok<Page<RunListItem>>, ValidationProblem>> List(
        IRunQueries queries,
        int? page,
        int? pageSize,
        string? status,
        Guid? datasetId,
        Guid? modelId,
        string? q,
        string? sort,
        bool? descending,
        string? createdBy,
        Guid? sweepId,
        CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var statusFilter = ParseOption<RunStatus>(status, "status", errors);
        var sortBy = ParseOption<RunSort>(sort, "sort", errors);
        if (!errors.IsEmpty)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary(), title: "The runs cannot be listed so.");
        }
        var (number, size) = Paging.Normalize(page, pageSize);
        var filter = new RunFilter(statusFilter, datasetId, modelId, q, sortBy ?? RunSort.CreatedAt, descending ?? true, QueryParameters.NullIfEmpty(createdBy), sweepId);
        return TypedResults.Ok(await queries.ListAsync(filter, number, size, cancellationToken));
    }

    /// <summary>An enum written as in JSON (camelCase), in any case; a wrong value lists the valid ones.</summary>
    private static T? ParseOption<T>(string? text, string field, ValidationErrors errors) where T : struct, Enum
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        if (Enum.TryParse<T>(text, ignoreCase: true, out var value) && Enum.IsDefined(value) && !char.IsDigit(text[0]))
        {
            return value;
        }
        errors.Add(field, $"'{text}' is not one of: {string.Join(", ", OptionNames<T>())}.");
        return null;
    }

    /// <summary>An enum's values as query parameters take them: its names in camelCase, as in JSON.</summary>
    private static string[] OptionNames<T>() where T : struct, Enum => Enum.GetNames<T>().Select(JsonNamingPolicy.CamelCase.ConvertName).ToArray();

    public static async Task<Results<Ok<RunView>, NotFound<ProblemDetails>>> Get(Guid id, IRunQueries queries, CancellationToken cancellationToken) =>
        await queries.GetAsync(id, cancellationToken) is { } run ? TypedResults.Ok(run) : Problems.NotFound("run", id);

    public static async Task<Results<Ok<RunMetricSeries>, NotFound<ProblemDetails>>> Metrics(Guid id, IRunQueries queries, CancellationToken cancellationToken) =>
        await queries.MetricsAsync(id, cancellationToken) is { } metrics ? TypedResults.Ok(metrics) : Problems.NotFound("run", id);

    public static async Task<Results<Ok<Page<RunLogLine>>, NotFound<ProblemDetails>>> Logs(Guid id, IRunQueries queries, int? page, int? pageSize, CancellationToken cancellationToken)
    {
        var (number, size) = Paging.Normalize(page, pageSize);
        return await queries.LogsAsync(id, number, size, cancellationToken) is { } logs ? TypedResults.Ok(logs) : Problems.NotFound("run", id);
    }

    /// <summary>The longest <c>layer</c> filter: deeper paths than the layer limit allows are never needed.</summary>
    private const int MaxLayerNameLength = 200;

    public static async Task<Results<Ok<RunLayerSeries>, NotFound<ProblemDetails>, ValidationProblem>> Layers(
        Guid id, IRunQueries queries, long? from, long? to, string? layer, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        if (from is < 1)
        {
            errors.Add("from", $"is a step of the run, counted from 1; got {from}.");
        }
        if (to is < 1)
        {
            errors.Add("to", $"is a step of the run, counted from 1; got {to}.");
        }
        if (from is { } first && to is { } last && first > last)
        {
            errors.Add("to", $"must not come before from ({first}); got {last}.");
        }
        layer = QueryParameters.NullIfEmpty(layer);
        if (layer is { Length: > MaxLayerNameLength })
        {
            errors.Add("layer", $"is a layer or parameter name such as layers[0] or layers[0].weight, at most {MaxLayerNameLength} characters; got {layer.Length}.");
        }
        if (!errors.IsEmpty)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary(), title: "The layers cannot be read so.");
        }
        if (await queries.LayersAsync(id, from, to, layer, cancellationToken) is not { } series)
        {
            return Problems.NotFound("run", id);
        }
        if (layer is not null && series.Step.Length > 0 && series.Parameters.Count == 0 && series.Activations.Count == 0)
        {
            var names = (await queries.LayersAsync(id, series.Step[0], series.Step[0], null, cancellationToken))!;
            errors.Add("layer", $"no layer or parameter of run {id} is named '{layer}'; use one of: "
                + $"{string.Join(", ", names.Activations.Select(activation => activation.Layer).Concat(names.Parameters.Select(parameter => parameter.Name)))}.");
            return TypedResults.ValidationProblem(errors.ToDictionary(), title: "The layers cannot be read so.");
        }
        return TypedResults.Ok(series);
    }

    public static async Task<Results<Accepted<RunView>, NotFound<ProblemDetails>, Conflict<ProblemDetails>, ProblemHttpResult>> Cancel(
        Guid id,
        ClaimsPrincipal user,
        ExperimentsDbContext db,
        RunCancellations cancellations,
        IRunQueries queries,
        Microsoft.AspNetCore.SignalR.IHubContext<RunsHub, IRunsClient> hub,
        ILogger<RunsHub> logger,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var run = await db.Runs.FirstOrDefaultAsync(r => r.Id == id, cancellationToken);
            if (run is null)
            {
                return Problems.NotFound("run", id);
            }
            var caller = Caller.Of(user);
            if (!caller.MayChange(run.CreatedBy))
            {
                return Problems.NotYours(caller, "run", id, run.CreatedBy);
            }
            if (!run.Cancel(time.GetUtcNow()))
            {
                return TypedResults.Conflict(new ProblemDetails
                {
                    Status = StatusCodes.Status409Conflict,
                    Title = "The run already finished.",
                    Detail = $"Run {id} is {run.Status.ToString().ToLowerInvariant()}; only queued and running runs can be cancelled.",
                });
            }
            db.Audit(caller, AuditActions.RunCancel, $"runs/{id}", run.Status == RunStatus.Cancelled ? "was queued" : "was running", time.GetUtcNow());
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateConcurrencyException) when (attempt < 3)
            {
                // The worker changed the run meanwhile (it started or finished): read it again.
                db.ChangeTracker.Clear();
                continue;
            }
            if (run.Status == RunStatus.Cancelled)
            {
                await hub.RunAndAll(id).RunStatusChanged(new RunStatusChanged(id, run.Status, run.StopReason, null, time.GetUtcNow())).SendQuietlyAsync(logger);
            }
            cancellations.Cancel(id);
            return TypedResults.Accepted($"/api/runs/{id}", (await queries.GetAsync(id, cancellationToken))!);
        }
    }

    internal static ValidationProblem Invalid(ValidationErrors errors) =>
        TypedResults.ValidationProblem(errors.ToDictionary(), title: "The run spec is not valid.");
}
