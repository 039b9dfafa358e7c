using System.Net;
using Microsoft.AspNetCore.Mvc;

namespace Experiments.Tests.Support;

public static class ProblemAssertions
{
    /// <summary>Asserts an RFC 7807 answer with <paramref name="status"/> (400 unless told) and reads its field errors.</summary>
    public static async Task<ValidationProblemDetails> ExpectProblemAsync(HttpResponseMessage response, HttpStatusCode status = HttpStatusCode.BadRequest)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return System.Text.Json.JsonSerializer.Deserialize<ValidationProblemDetails>(body, ApiFactory.Json)!;
    }
}
