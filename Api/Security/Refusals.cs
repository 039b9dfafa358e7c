using Microsoft.AspNetCore.Mvc;

namespace Experiments.Api.Security;

/// <summary>The answer of a request the HTTP hardening refuses: problem details naming the header and the fix.</summary>
internal static class Refusals
{
    public static async Task WriteAsync(HttpContext context, int status, string title, string header, string message)
    {
        context.Response.StatusCode = status;
        var details = new ValidationProblemDetails(new Dictionary<string, string[]> { [header] = [message] })
        {
            Status = status,
            Title = title,
        };
        var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        if (!await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = details }))
        {
            // A client that accepts no JSON at all still reads why.
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync($"{title} {header}: {message}");
        }
    }
}
