using System.Security.Claims;
using System.Text.Json;
using Experiments.Api.Access;
using Experiments.Api.Hosting;
using Experiments.Api.Persistence;
using Experiments.Domain;
using Experiments.Domain.Access;
using Experiments.Domain.Models;
using Experiments.Domain.Runs;
using Experiments.Domain.Validation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Experiments.Api.Models;

public static class ModelsApi
{
    public const int MaxRank = 8;
    public const int MaxBatchSize = RunSpecValidator.MaxBatchSize;
    public const int MaxNameLength = 200;

    /// <summary>Tries at saving the next version when concurrent saves under one name keep taking it first.</summary>
    public const int MaxVersionAttempts = 20;

    public static IEndpointRouteBuilder MapModels(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/models").WithTags("Models").RefuseUnknownQueryParameters().AnswerProblemsAsProblemJson().RequireAuthorization(Policies.Viewer);
        group.MapPost("/", Create)
            .WithName("createModel")
            .RequireAuthorization(Policies.Editor)
            .WithSummary("Save a layer stack as a model version")
            .WithDescription("Layers are named as in torch.nn (camelCase hyperparameters); input sizes are inferred. Saving a different stack "
                + "under an existing name creates the next version; saving the same stack again returns that version with 200. With an "
                + "inputShape, the shapes are checked and the parameters counted against Experiments:MaxModelParameters.");
        group.MapPost("/validate", Validate)
            .WithName("validateModel")
            .WithSummary("Check a layer stack against a sample shape without saving it")
            .WithDescription("Answers every layer's output shape, parameters and forward FLOPs per sample, the totals, and an estimate of one "
                + "training step's FLOPs and memory at batchSize (default 32). Problems name the layer (layers[3]), what it needs, what it "
                + "receives and the fix. A model with more parameters than Experiments:MaxModelParameters is refused.");
        group.MapGet("/templates", Templates)
            .WithName("listModelTemplates")
            .WithSummary("Layer stacks to start from: linear classifier, MLP, LeNet-5, small CNNs for 28×28 and 32×32 images, a small residual CNN")
            .WithDescription("Each has the input shape it expects; post its layers to /api/models/validate or /api/models as they are.");
        group.MapGet("/", List).WithName("listModels").Paged().WithSummary("List model versions, newest first");
        group.MapGet("/{id:guid}", Get).WithName("getModel").WithSummary("One model version");
        return app;
    }

    public static async Task<Results<Created<ModelView>, Ok<ModelView>, ValidationProblem, Conflict<ProblemDetails>>> Create(
        CreateModelRequest? request, ClaimsPrincipal user, ExperimentsDbContext db, IOptions<ExperimentsOptions> options, TimeProvider time,
        CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        var name = request?.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > MaxNameLength)
        {
            errors.Add("name", $"is required: 1 to {MaxNameLength} characters, e.g. \"iris-mlp\".");
        }
        else if (Names.Problem(name) is { } invisible)
        {
            errors.Add("name", invisible);
        }
        var layers = ModelValidator.Resolve(request?.Layers, errors);
        var summary = layers is not null && CheckInputShape(request!.InputShape, errors) ? ModelValidator.InferShapes(layers, request.InputShape!, errors) : null;
        if (summary is not null)
        {
            ModelValidator.CheckParameters(summary, options.Value.Limits(), errors);
        }
        if (!errors.IsEmpty)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary(), title: "The model is not valid.");
        }

        var saved = await ModelVersions.SaveAsync(db, name!, layers!, Caller.Of(user), time.GetUtcNow(), cancellationToken);
        return saved switch
        {
            null => TypedResults.Conflict(new ProblemDetails
            {
                Status = StatusCodes.Status409Conflict,
                Title = "Another version of the model was being saved at the same time.",
                Detail = $"Model '{name}' got {MaxVersionAttempts} new versions from other requests while this one was saved; send it again.",
            }),
            { Created: true, Model: var created } => TypedResults.Created($"/api/models/{created.Id}", ModelView.From(created, summary)),
            { Model: var existing } => TypedResults.Ok(ModelView.From(existing, summary)),
        };
    }

    public static Results<Ok<ModelValidation>, ValidationProblem> Validate(ValidateModelRequest? request, IOptions<ExperimentsOptions> options)
    {
        var errors = new ValidationErrors();
        var layers = ModelValidator.Resolve(request?.Layers, errors);
        if (request?.InputShape is null)
        {
            errors.Add("inputShape", "is required: the shape of one sample, e.g. [4] for Iris or [1,28,28] for MNIST.");
        }
        var batchSize = request?.BatchSize ?? RunSpecValidator.DefaultBatchSize;
        if (batchSize is < 1 or > MaxBatchSize)
        {
            errors.Add("batchSize", $"must be between 1 and {MaxBatchSize}; got {batchSize}.");
        }
        var summary = layers is not null && CheckInputShape(request!.InputShape, errors) ? ModelValidator.InferShapes(layers, request.InputShape!, errors) : null;
        if (summary is not null && ModelValidator.CheckParameters(summary, options.Value.Limits(), errors) && errors.IsEmpty)
        {
            ModelValidator.Estimate(summary, batchSize, errors);
        }
        return summary is null || !errors.IsEmpty
            ? TypedResults.ValidationProblem(errors.ToDictionary(), title: "The model is not valid.")
            : TypedResults.Ok(ModelValidation.From(summary, batchSize));
    }

    public static Ok<IReadOnlyList<ModelTemplate>> Templates() => TypedResults.Ok(ModelTemplates.All);

    public static async Task<Ok<Page<ModelView>>> List(IModelQueries queries, int? page, int? pageSize, string? createdBy, CancellationToken cancellationToken)
    {
        var (number, size) = Paging.Normalize(page, pageSize);
        return TypedResults.Ok(await queries.ListAsync(number, size, cancellationToken, QueryParameters.NullIfEmpty(createdBy)));
    }

    public static async Task<Results<Ok<ModelView>, NotFound<ProblemDetails>>> Get(Guid id, IModelQueries queries, CancellationToken cancellationToken) =>
        await queries.GetAsync(id, cancellationToken) is { } model ? TypedResults.Ok(model) : Problems.NotFound("model", id);

    /// <summary>True when there is a shape to check and it is well formed.</summary>
    private static bool CheckInputShape(int[]? shape, ValidationErrors errors)
    {
        if (shape is null)
        {
            return false;
        }
        if (shape.Length is 0 or > MaxRank || shape.Any(dimension => dimension < 1))
        {
            errors.Add("inputShape", $"must list 1 to {MaxRank} positive sizes, e.g. [4] or [1,28,28]; got [{string.Join(",", shape)}].");
            return false;
        }
        return true;
    }
}
