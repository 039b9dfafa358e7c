using System.Net;
using Experiments.Api.Security;
using Experiments.Tests.Support;

namespace Experiments.Tests.Api.Security;

/// <summary>What a browser asks before a page of another site calls the API.</summary>
internal static class Cors
{
    public static HttpRequestMessage Preflight(string path, string origin)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, path);
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", "authorization,content-type");
        return request;
    }

    public static HttpRequestMessage Post(string path, string origin)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Sec-Fetch-Site", "cross-site");
        return request;
    }

    public static bool HasCorsHeaders(HttpResponseMessage response) =>
        response.Headers.Any(header => header.Key.StartsWith("Access-Control-", StringComparison.OrdinalIgnoreCase));
}

/// <summary>No origin configured (the default): no CORS answer at all, to anyone.</summary>
[Collection(OneAtATime.Name)]
public sealed class CorsClosedTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task A_preflight_and_a_read_get_no_cors_headers()
    {
        var client = factory.CreateClient();
        var read = new HttpRequestMessage(HttpMethod.Get, "/api/runs");
        read.Headers.Add("Origin", "http://notebooks.example:8888");

        var preflight = await client.SendAsync(Cors.Preflight("/api/models/validate", "http://notebooks.example:8888"));
        var answered = await client.SendAsync(read);

        Assert.False(Cors.HasCorsHeaders(preflight), string.Join(", ", preflight.Headers.Select(header => header.Key)));
        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        Assert.False(Cors.HasCorsHeaders(answered));
    }

    [Fact]
    public async Task A_call_from_another_sites_page_is_refused()
    {
        var response = await factory.CreateClient().SendAsync(Cors.Post("/api/models/validate", "http://notebooks.example:8888"));

        await ProblemAssertions.ExpectProblemAsync(response, HttpStatusCode.Forbidden);
    }
}

/// <summary>Experiments:Cors:AllowedOrigins lists two sites: they get CORS answers from the API and pass the Origin check.</summary>
[Collection(OneAtATime.Name)]
public sealed class CorsConfiguredTests : IClassFixture<CorsConfiguredTests.Host>
{
    private const string Notebooks = "http://notebooks.example:8888";

    private readonly ApiFactory _factory;

    public CorsConfiguredTests(Host host) => _factory = host.Factory;

    [Theory]
    [InlineData(Notebooks)]
    [InlineData("https://lab.example")]
    public async Task A_configured_origins_preflight_is_answered_for_the_api(string origin)
    {
        var response = await _factory.CreateClient().SendAsync(Cors.Preflight($"/api/runs/{Guid.NewGuid()}/cancel", origin));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(origin, Assert.Single(response.Headers.GetValues("Access-Control-Allow-Origin")));
        Assert.Contains("POST", response.Headers.GetValues("Access-Control-Allow-Methods"));
        Assert.Contains("authorization,content-type", response.Headers.GetValues("Access-Control-Allow-Headers"));
        Assert.False(response.Headers.Contains("Access-Control-Allow-Credentials"));
    }

    [Fact]
    public async Task A_configured_origins_call_passes_the_origin_check_and_may_read_the_answer()
    {
        var response = await _factory.CreateClient().SendAsync(Cors.Post("/api/models/validate", Notebooks));

        // The empty model is refused by the API itself, and the page may read why.
        var problem = await ProblemAssertions.ExpectProblemAsync(response);
        Assert.True(problem.Errors.ContainsKey("layers"), string.Join(", ", problem.Errors.Keys));
        Assert.Equal(Notebooks, Assert.Single(response.Headers.GetValues("Access-Control-Allow-Origin")));
        Assert.Contains("Location", response.Headers.GetValues("Access-Control-Expose-Headers").Single().Split(','));
    }

    [Fact]
    public async Task Another_origin_gets_no_cors_answer_and_is_refused()
    {
        var client = _factory.CreateClient();

        var preflight = await client.SendAsync(Cors.Preflight("/api/models/validate", "http://evil.example"));
        var call = await client.SendAsync(Cors.Post("/api/models/validate", "http://evil.example"));

        Assert.False(preflight.Headers.Contains("Access-Control-Allow-Origin"));
        await ProblemAssertions.ExpectProblemAsync(call, HttpStatusCode.Forbidden);
        Assert.False(Cors.HasCorsHeaders(call));
    }

    [Fact]
    public async Task Outside_the_api_there_are_no_cors_answers()
    {
        var response = await _factory.CreateClient().SendAsync(Cors.Preflight("/hubs/runs/negotiate", Notebooks));

        Assert.False(Cors.HasCorsHeaders(response));
    }

    public sealed class Host : IDisposable
    {
        public ApiFactory Factory { get; } = new()
        {
            Trains = false,
            Settings =
            {
                ["Experiments:Cors:AllowedOrigins:0"] = Notebooks,
                // Written as a person might: upper case, a trailing slash.
                ["Experiments:Cors:AllowedOrigins:1"] = "HTTPS://Lab.Example/",
            },
        };

        public void Dispose() => Factory.Dispose();
    }
}

/// <summary>The setting is read strictly: '*' or anything but an origin is named at start-up.</summary>
public sealed class CorsSettingsTests
{
    [Fact]
    public void A_wildcard_is_refused_with_why()
    {
        var error = Assert.Throws<InvalidOperationException>(() => CorsOrigins.From(new CorsSettings { AllowedOrigins = ["*"] }));

        Assert.StartsWith("Experiments:Cors:AllowedOrigins:0 is '*': list each site", error.Message);
    }

    [Theory]
    [InlineData("notebooks.example")]
    [InlineData("https://notebooks.example/app")]
    [InlineData("https://notebooks.example?x=1")]
    [InlineData("ftp://notebooks.example")]
    [InlineData("https://user@notebooks.example")]
    public void A_value_that_is_not_an_origin_is_refused_naming_the_setting(string value)
    {
        var error = Assert.Throws<InvalidOperationException>(() => CorsOrigins.From(new CorsSettings { AllowedOrigins = [value] }));

        Assert.StartsWith($"Experiments:Cors:AllowedOrigins:0 '{value}' is not an origin", error.Message);
    }

    [Fact]
    public void Origins_are_kept_as_browsers_send_them()
    {
        var origins = CorsOrigins.From(new CorsSettings { AllowedOrigins = ["HTTPS://Lab.Example:443/", "http://localhost:8888"] });

        Assert.Equal(["https://lab.example", "http://localhost:8888"], origins.Origins);
        Assert.True(origins.Allows("https://lab.example"));
        Assert.False(origins.Allows("http://lab.example"));
        Assert.False(origins.Allows("null"));
    }
}
