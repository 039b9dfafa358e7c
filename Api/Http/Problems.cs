using Experiments.Domain.Access;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Experiments.Api;

public static class Problems
{
    /// <summary>403: <paramref name="caller"/> may not change what <paramref name="owner"/> created.</summary>
    public static ProblemHttpResult NotYours(Caller caller, string what, Guid id, string? owner) => TypedResults.Problem(new ProblemDetails
    {
        Status = StatusCodes.Status403Forbidden,
        Title = "Not allowed.",
        Detail = caller.Role == Role.Editor
            ? $"{what} {id} was created by {(owner is null ? "no key (before keys were required)" : $"'{owner}'")}; an editor may cancel and delete only what they created. Ask its creator or an admin."
            : $"{caller.Describe()} may not change {what} {id}; this needs an editor (their own) or an admin.",
    });

    public static NotFound<ProblemDetails> NotFound(string what, Guid id) => TypedResults.NotFound(new ProblemDetails
    {
        Status = StatusCodes.Status404NotFound,
        Title = $"No {what} with this id.",
        Detail = $"There is no {what} with id {id}; list them with GET /api/{what}s.",
    });
}
