using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Experiments.Api;

public static class Problems
{
    public static NotFound<ProblemDetails> NotFound(string what, Guid id) => TypedResults.NotFound(new ProblemDetails
    {
        Status = StatusCodes.Status404NotFound,
        Title = $"No {what} with this id.",
        Detail = $"There is no {what} with id {id}; list them with GET /api/{what}s.",
    });
}
