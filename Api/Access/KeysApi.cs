using System.Security.Claims;
using Experiments.Api.Persistence;
using Experiments.Domain;
using Experiments.Domain.Access;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Experiments.Api.Access;

/// <summary><c>/api/keys</c> and <c>/api/audit</c>, for admins.</summary>
public static class KeysApi
{
    public static IEndpointRouteBuilder MapAccess(this IEndpointRouteBuilder app)
    {
        var keys = app.MapGroup("/api/keys").WithTags("Access").RefuseUnknownQueryParameters().AnswerProblemsAsProblemJson().RequireAuthorization(Policies.Admin);
        keys.MapGet("/", List).WithName("listKeys").WithSummary("List API keys: names, roles, created, expiry, last used, revoked (never the keys)");
        keys.MapPost("/", Create)
            .WithName("createKey")
            .WithSummary("Create an API key")
            .WithDescription("Answers the key once, in `key`; only its hash is stored. `role` is viewer, editor or admin; `expiresAt` is optional. "
                + "A name already held by an active key is refused with 400.");
        keys.MapDelete("/{name}", Revoke).WithName("revokeKey").WithSummary("Revoke the active key with this name; it stops working on its next request");
        app.MapGroup("/api/audit").WithTags("Access").RefuseUnknownQueryParameters().RequireAuthorization(Policies.Admin)
            .MapGet("/", Audit)
            .WithName("listAuditEntries")
            .Paged()
            .WithSummary("The audit log, newest first: every create, cancel and delete, and every key change")
            .WithDescription("Filters: `actor` (a key's name), `action` (e.g. run.cancel, key.revoke).");
        return app;
    }

    public static async Task<Ok<List<ApiKeyView>>> List(ApiKeys keys, CancellationToken cancellationToken) =>
        TypedResults.Ok(await keys.ListAsync(cancellationToken));

    public static async Task<Results<Created<CreatedApiKey>, ValidationProblem>> Create(
        CreateApiKeyRequest? request, ApiKeys keys, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var (created, errors) = await keys.CreateAsync(request?.Name, request?.Role, request?.ExpiresAt, Caller.Of(user), cancellationToken);
        return created is null
            ? TypedResults.ValidationProblem(errors.ToDictionary(), title: "The key cannot be created.")
            : TypedResults.Created($"/api/keys/{Uri.EscapeDataString(created.Details.Name)}", created);
    }

    public static async Task<Results<Ok<ApiKeyView>, NotFound<ProblemDetails>>> Revoke(
        string name, ApiKeys keys, ClaimsPrincipal user, CancellationToken cancellationToken) =>
        await keys.RevokeAsync(name, Caller.Of(user), cancellationToken) is { } revoked
            ? TypedResults.Ok(revoked)
            : TypedResults.NotFound(new ProblemDetails
            {
                Status = StatusCodes.Status404NotFound,
                Title = "No active key with this name.",
                Detail = $"No active key is named '{name}'; list them with GET /api/keys.",
            });

    public static async Task<Ok<Page<AuditEntryView>>> Audit(
        ExperimentsDbContext db, int? page, int? pageSize, string? actor, string? action, CancellationToken cancellationToken)
    {
        var (number, size) = Paging.Normalize(page, pageSize);
        var entries = db.AuditLog.AsNoTracking();
        if (!string.IsNullOrEmpty(actor))
        {
            entries = entries.Where(entry => entry.Actor == actor);
        }
        if (!string.IsNullOrEmpty(action))
        {
            entries = entries.Where(entry => entry.Action == action);
        }
        var total = await entries.CountAsync(cancellationToken);
        var items = await entries.OrderByDescending(entry => entry.Id).PageOf(number, size).ToListAsync(cancellationToken);
        return TypedResults.Ok(new Page<AuditEntryView>([.. items.Select(AuditEntryView.From)], number, size, total));
    }
}
