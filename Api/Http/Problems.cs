using Experiments.Domain.Access;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Experiments.Api;

public static class Problems
{
    /// <summary>
    /// Writes problem details from outside an endpoint (the hardening middleware, authentication, the rate limiter), with
    /// the message under <paramref name="field"/> when one is named; plain text to a client that accepts no JSON.
    /// </summary>
    public static async Task WriteAsync(HttpContext context, int status, string title, string detail, string? field = null)
    {
        context.Response.StatusCode = status;
        ProblemDetails details = field is null
            ? new ProblemDetails { Detail = detail }
            : new ValidationProblemDetails(new Dictionary<string, string[]> { [field] = [detail] });
        details.Status = status;
        details.Title = title;
        var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        if (!await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = details }))
        {
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync(field is null ? $"{title} {detail}" : $"{title} {field}: {detail}");
        }
    }

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

    /// <summary>
    /// Writes every problem details a handler of the group answers as <c>application/problem+json</c> (RFC 7807), as
    /// validation problems already are: <c>TypedResults.NotFound(problem)</c> and <c>Conflict(problem)</c> keep their
    /// types in the handlers' signatures, which document the answers, but would be sent as <c>application/json</c>.
    /// </summary>
    public static RouteGroupBuilder AnswerProblemsAsProblemJson(this RouteGroupBuilder group)
    {
        group.AddEndpointFilter(async (invocation, next) =>
        {
            var result = await next(invocation);
            var answer = result is INestedHttpResult nested ? nested.Result : result;
            return answer is IValueHttpResult { Value: ProblemDetails problem } and not ProblemHttpResult and not ValidationProblem
                ? TypedResults.Problem(problem)
                : result;
        });
        return group;
    }
}
