using System.Net;
using Experiments.Tests.Support;

namespace Experiments.Tests.Api.Security;

/// <summary>Every answer carries the security headers: pages, the API, Swagger, errors and refusals alike.</summary>
[Collection(OneAtATime.Name)]
public sealed class SecurityHeadersTests(KestrelHost host) : IClassFixture<KestrelHost>
{
    private const string Policy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; "
        + "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    public static TheoryData<string, string, string?> Requests => new()
    {
        { "GET", "/", null },
        { "GET", "/runs/new", null },
        { "GET", "/_framework/blazor.web.js", null },
        { "GET", "/api/runs", null },
        { "GET", "/swagger/index.html", null },
        { "GET", "/swagger/v1/swagger.json", null },
        { "GET", $"/api/runs/{Guid.NewGuid()}", null },
        { "POST", "/api/models", "{\"name\": 1}" },
        { "GET", "/api/runs", "attacker.example" },
        { "POST", "/api/models/validate", "http://evil.example" },
    };

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task Every_answer_has_nosniff_no_framing_the_referrer_policy_and_the_content_security_policy(string method, string path, string? detail)
    {
        using var client = host.CreateClient();
        var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (detail == "attacker.example")
        {
            request.Headers.Host = detail;
        }
        else if (detail?.StartsWith("http", StringComparison.Ordinal) == true)
        {
            request.Headers.Add("Origin", detail);
            request.Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json");
        }
        else if (detail is not null)
        {
            request.Content = new StringContent(detail, System.Text.Encoding.UTF8, "application/json");
        }

        var response = await client.SendAsync(request);

        Assert.Equal("nosniff", Single(response, "X-Content-Type-Options"));
        Assert.Equal("DENY", Single(response, "X-Frame-Options"));
        Assert.Equal("same-origin", Single(response, "Referrer-Policy"));
        Assert.Equal(Policy, Single(response, "Content-Security-Policy"));
        Assert.False(response.Headers.Contains("Server"), $"{method} {path} answered with a Server header");
    }

    [Fact]
    public async Task Kestrel_sends_no_server_banner()
    {
        using var client = host.CreateClient();

        var response = await client.GetAsync("/api/runs");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(response.Headers.Server);
    }

    private static string Single(HttpResponseMessage response, string header) =>
        Assert.Single(response.Headers.TryGetValues(header, out var values) ? values : []);
}
