using Experiments.Tests.Support;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Experiments.Api.Access;
using Experiments.Domain.Access;
using Experiments.Domain.Datasets;
using Experiments.Domain.Models;
using Experiments.Domain.Runs;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Experiments.Tests.Api.Access;

/// <summary>
/// Every endpoint of the app, called as nobody, a viewer, the editor who owns the thing, another editor and an admin,
/// on a service that has keys. The endpoints come from the app itself: a new endpoint without a row here fails the test.
/// </summary>
[Collection(OneAtATime.Name)]
public sealed class AccessMatrixTests : IAsyncLifetime, IDisposable
{
    public enum Who
    {
        Nobody,
        Viewer,
        Owner,
        OtherEditor,
        Admin,
    }

    private enum Rule
    {
        Anyone,
        Reader,
        Creator,
        OwnerOrAdmin,
        AdminOnly,
        Page,
    }

    private static readonly Who[] Everyone = Enum.GetValues<Who>();

    private readonly ApiFactory _factory = new() { Trains = false };
    private readonly Dictionary<Who, string> _keys = [];
    private DatasetView _dataset = null!;
    private ModelView _model = null!;
    private RunView _run = null!;
    private Guid _sweep;
    private int _fresh;
    private Uri _address = null!;

    public async Task InitializeAsync()
    {
        // Real HTTP on a loopback port: the dashboard's pages reach the service's own API at its address.
        _factory.UseKestrel(0);
        _factory.StartServer();
        _address = new Uri(_factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        _keys[Who.Viewer] = await Keys.CreateAsync(_factory, "vera", Role.Viewer);
        _keys[Who.Owner] = await Keys.CreateAsync(_factory, "alice", Role.Editor);
        _keys[Who.OtherEditor] = await Keys.CreateAsync(_factory, "bob", Role.Editor);
        _keys[Who.Admin] = await Keys.CreateAsync(_factory, "root", Role.Admin);
        using var alice = Client(Who.Owner);
        _dataset = await Workflow.ImportIrisAsync(alice);
        _model = await Workflow.CreateMlpAsync(alice);
        _run = await Workflow.CreateRunAsync(alice, _dataset.Id, _model.Id);
        _sweep = await OwnedSweepAsync();
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task Every_endpoint_answers_each_kind_of_caller_as_its_policy_says()
    {
        var cases = Cases();
        var endpoints = AppEndpoints.Of(_factory);
        var uncovered = new List<string>();
        var wrong = new List<string>();
        foreach (var endpoint in endpoints)
        {
            foreach (var method in AppEndpoints.Methods(endpoint))
            {
                var pattern = endpoint.RoutePattern.RawText ?? "";
                var key = $"{method} {pattern}";
                if (!cases.TryGetValue(key, out var test))
                {
                    if (AppEndpoints.IsAnonymous(endpoint) && endpoint.RoutePattern.Parameters.Count == 0 && method is "GET" or "HEAD")
                    {
                        // A static asset of the dashboard: anyone may fetch it (the sign-in page needs its styles and script).
                        test = (Rule.Anyone, _ => Task.FromResult(new HttpRequestMessage(new HttpMethod(method), "/" + pattern.TrimStart('/'))));
                    }
                    else
                    {
                        uncovered.Add(AppEndpoints.Describe(endpoint));
                        continue;
                    }
                }
                foreach (var who in Everyone)
                {
                    using var request = await test.Request(who);
                    using var client = Client(who);
                    using var response = await client.SendAsync(request);
                    if (!Allowed(test.Rule, who, response, out var expected))
                    {
                        wrong.Add($"{key} as {who}: {(int)response.StatusCode} {response.Headers.Location}, expected {expected}: "
                            + (await response.Content.ReadAsStringAsync())[..Math.Min(300, (int)(response.Content.Headers.ContentLength ?? 300))]);
                    }
                }
            }
        }
        Assert.True(uncovered.Count == 0, "Endpoints the matrix does not cover; add a row to Cases():\n" + string.Join("\n", uncovered));
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    /// <summary>Whether the answer is what the rule gives <paramref name="who"/>.</summary>
    private static bool Allowed(Rule rule, Who who, HttpResponseMessage response, out string expected)
    {
        var status = response.StatusCode;
        var refusedNobody = status == HttpStatusCode.Unauthorized && response.Headers.WwwAuthenticate.Any(value => value.Scheme == "Bearer");
        var sentToSignIn = status == HttpStatusCode.Redirect && response.Headers.Location?.OriginalString.StartsWith("/signin", StringComparison.Ordinal) == true;
        var forbidden = status == HttpStatusCode.Forbidden && response.Content.Headers.ContentType?.MediaType == "application/problem+json";
        var request = response.RequestMessage!;
        var path = request.RequestUri!.AbsolutePath;
        // Health answers 503 on this host, which runs no Hangfire server: unhealthy, and served.
        var served = status is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.Redirect)
            && ((int)status < 500 || (path == "/health" && status == HttpStatusCode.ServiceUnavailable));
        var mayAct = rule switch
        {
            Rule.Anyone => true,
            Rule.Reader or Rule.Page => who != Who.Nobody,
            Rule.Creator => who is Who.Owner or Who.OtherEditor or Who.Admin,
            Rule.OwnerOrAdmin => who is Who.Owner or Who.Admin,
            Rule.AdminOnly => who == Who.Admin,
            _ => false,
        };
        if (rule == Rule.Anyone)
        {
            // Sign-out answers with a redirect to the sign-in page.
            expected = "not 401, 403 or 5xx";
            return status is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden) && ((int)status < 500 || served);
        }
        if (mayAct)
        {
            expected = rule == Rule.Page ? "200" : "served (not 401, 403, 3xx or 5xx)";
            return rule == Rule.Page ? status == HttpStatusCode.OK : served;
        }
        if (who == Who.Nobody)
        {
            // A browser asking for a page (the dashboard's, Hangfire's) is sent to sign in; everything else is told why.
            var page = (request.Method == HttpMethod.Get || request.Method == HttpMethod.Head)
                && !path.StartsWith("/api/", StringComparison.Ordinal) && !path.StartsWith("/hubs/", StringComparison.Ordinal);
            expected = page ? "302 to /signin" : "401 with WWW-Authenticate: Bearer";
            return page ? sentToSignIn : refusedNobody;
        }
        expected = "403 problem details";
        return forbidden;
    }

    private Dictionary<string, (Rule Rule, Func<Who, Task<HttpRequestMessage>> Request)> Cases()
    {
        var runs = $"/api/runs/{_run.Id}";
        var cases = new Dictionary<string, (Rule, Func<Who, Task<HttpRequestMessage>>)>
        {
            ["* /health"] = (Rule.Anyone, Get("/health")),
            ["POST /account/signin"] = (Rule.Anyone, _ => Task.FromResult(Form("/account/signin", ("key", "exp_wrong")))),
            ["POST /account/signout"] = (Rule.Anyone, _ => Task.FromResult(Form("/account/signout"))),

            ["GET /api/keys/"] = (Rule.AdminOnly, Get("/api/keys")),
            ["POST /api/keys/"] = (Rule.AdminOnly, _ => Json(HttpMethod.Post, "/api/keys", new { name = $"made-{Interlocked.Increment(ref _fresh)}", role = "viewer" })),
            ["DELETE /api/keys/{name}"] = (Rule.AdminOnly, async _ => new HttpRequestMessage(HttpMethod.Delete, $"/api/keys/{await SpareKeyAsync()}")),
            ["GET /api/audit/"] = (Rule.AdminOnly, Get("/api/audit")),

            ["POST /api/datasets/"] = (Rule.Creator, _ => Task.FromResult(IrisForm(Interlocked.Increment(ref _fresh)))),
            ["GET /api/datasets/"] = (Rule.Reader, Get("/api/datasets")),
            ["GET /api/datasets/{id:guid}"] = (Rule.Reader, Get($"/api/datasets/{_dataset.Id}")),
            ["GET /api/datasets/{id:guid}/preview"] = (Rule.Reader, Get($"/api/datasets/{_dataset.Id}/preview")),
            ["DELETE /api/datasets/{id:guid}"] = (Rule.OwnerOrAdmin, async _ => new HttpRequestMessage(HttpMethod.Delete, $"/api/datasets/{await OwnedDatasetAsync()}")),

            ["POST /api/models/"] = (Rule.Creator, _ => Json(HttpMethod.Post, "/api/models", new
            {
                name = $"m{Interlocked.Increment(ref _fresh)}",
                layers = new object[] { new { type = "linear", outFeatures = 3 } },
            })),
            ["POST /api/models/validate"] = (Rule.Reader, _ => Json(HttpMethod.Post, "/api/models/validate", new
            {
                layers = new object[] { new { type = "linear", outFeatures = 3 } },
                inputShape = new[] { 4 },
            })),
            ["GET /api/models/templates"] = (Rule.Reader, Get("/api/models/templates")),
            ["GET /api/workers/"] = (Rule.Reader, Get("/api/workers")),
            ["GET /api/models/"] = (Rule.Reader, Get("/api/models")),
            ["GET /api/models/{id:guid}"] = (Rule.Reader, Get($"/api/models/{_model.Id}")),

            ["POST /api/runs/"] = (Rule.Creator, _ => Json(HttpMethod.Post, "/api/runs", RunSpec())),
            // They compute on the server as a run does: editors and admins, not viewers.
            ["POST /api/runs/preflight"] = (Rule.Creator, _ => Json(HttpMethod.Post, "/api/runs/preflight", RunSpec())),
            ["POST /api/runs/lr-range-test"] = (Rule.Creator, _ => Json(HttpMethod.Post, "/api/runs/lr-range-test?steps=10", RunSpec())),
            ["GET /api/runs/"] = (Rule.Reader, Get("/api/runs")),
            ["POST /api/sweeps/"] = (Rule.Creator, _ => Json(HttpMethod.Post, "/api/sweeps", SweepSpec())),
            ["GET /api/sweeps/"] = (Rule.Reader, Get("/api/sweeps")),
            ["GET /api/sweeps/{id:guid}"] = (Rule.Reader, Get($"/api/sweeps/{_sweep}")),
            ["POST /api/sweeps/{id:guid}/cancel"] = (Rule.OwnerOrAdmin, async _ => new HttpRequestMessage(HttpMethod.Post, $"/api/sweeps/{await OwnedSweepAsync()}/cancel")),
            ["GET /api/runs/{id:guid}"] = (Rule.Reader, Get(runs)),
            ["GET /api/runs/{id:guid}/metrics"] = (Rule.Reader, Get($"{runs}/metrics")),
            ["GET /api/runs/{id:guid}/logs"] = (Rule.Reader, Get($"{runs}/logs")),
            ["GET /api/runs/{id:guid}/layers"] = (Rule.Reader, Get($"{runs}/layers")),
            ["POST /api/runs/{id:guid}/cancel"] = (Rule.OwnerOrAdmin, async _ => new HttpRequestMessage(HttpMethod.Post, $"/api/runs/{await OwnedRunAsync()}/cancel")),
            ["POST /api/runs/{id:guid}/evaluate"] = (Rule.Reader, _ => Json(HttpMethod.Post, $"{runs}/evaluate", new { datasetId = _dataset.Id })),
            ["POST /api/runs/{id:guid}/predict"] = (Rule.Reader, _ => Json(HttpMethod.Post, $"{runs}/predict", new { samples = new[] { new[] { 5.1, 3.5, 1.4, 0.2 } } })),
            ["GET /api/runs/{id:guid}/weights"] = (Rule.Reader, Get($"{runs}/weights")),
            ["GET /api/runs/{id:guid}/mistakes"] = (Rule.Reader, Get($"{runs}/mistakes")),

            ["* /hubs/runs/negotiate"] = (Rule.Reader, _ => Task.FromResult(new HttpRequestMessage(HttpMethod.Post, "/hubs/runs/negotiate?negotiateVersion=1"))),
            ["* /hubs/runs"] = (Rule.Reader, Get("/hubs/runs")),

            ["* /hangfire/{**path}"] = (Rule.AdminOnly, Get("/hangfire")),

            // Blazor's circuit endpoints: the same reader policy as the pages.
            ["* /_blazor/negotiate"] = (Rule.Reader, _ => Task.FromResult(new HttpRequestMessage(HttpMethod.Post, "/_blazor/negotiate?negotiateVersion=1"))),
            ["* /_blazor"] = (Rule.Reader, _ => Task.FromResult(new HttpRequestMessage(HttpMethod.Post, "/_blazor"))),
            ["* /_blazor/disconnect/"] = (Rule.Reader, _ => Task.FromResult(Form("/_blazor/disconnect/"))),
            ["* /_blazor/initializers/"] = (Rule.Reader, Get("/_blazor/initializers/")),
            ["GET /_framework/opaque-redirect"] = (Rule.Reader, Get("/_framework/opaque-redirect")),
            // Files not in the static assets' manifest: the authorization fallback policy (a reader) applies.
            ["GET {**path:file}"] = (Rule.Reader, Get("/no-such-file.txt")),
            ["HEAD {**path:file}"] = (Rule.Reader, _ => Task.FromResult(new HttpRequestMessage(HttpMethod.Head, "/no-such-file.txt"))),
        };
        foreach (var page in new[] { "/", "/runs/new", "/datasets", "/models", "/compare", "/workers", "/sweeps" })
        {
            cases[$"GET {page}"] = (Rule.Page, Get(page));
            cases[$"POST {page}"] = (Rule.Reader, _ => Task.FromResult(Form(page)));
        }
        cases["GET /runs/{Id:guid}"] = (Rule.Page, Get($"/runs/{_run.Id}"));
        cases["POST /runs/{Id:guid}"] = (Rule.Reader, _ => Task.FromResult(Form($"/runs/{_run.Id}")));
        cases["GET /sweeps/{Id:guid}"] = (Rule.Page, Get($"/sweeps/{_sweep}"));
        cases["POST /sweeps/{Id:guid}"] = (Rule.Reader, _ => Task.FromResult(Form($"/sweeps/{_sweep}")));
        cases["GET /signin"] = (Rule.Anyone, Get("/signin"));
        cases["POST /signin"] = (Rule.Anyone, _ => Task.FromResult(Form("/signin")));
        return cases;
    }

    private object RunSpec() => new
    {
        datasetId = _dataset.Id,
        modelId = _model.Id,
        optimizer = new { type = "adam", lr = 0.01 },
        loss = new { type = "crossEntropy" },
        epochs = 1,
    };

    private async Task<Guid> OwnedDatasetAsync()
    {
        using var alice = Client(Who.Owner);
        var response = await alice.SendAsync(IrisForm(Interlocked.Increment(ref _fresh)));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.ReadAsAsync<DatasetView>()).Id;
    }

    private object SweepSpec() => new
    {
        @base = RunSpec(),
        parameters = new Dictionary<string, object> { ["optimizer.lr"] = new { type = "choice", values = new[] { 0.01, 0.02 } } },
        method = "grid",
    };

    private async Task<Guid> OwnedSweepAsync()
    {
        using var alice = Client(Who.Owner);
        var response = await alice.PostAsJsonAsync("/api/sweeps", SweepSpec());
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.ReadAsAsync<Experiments.Domain.Sweeps.SweepView>()).Id;
    }

    private async Task<Guid> OwnedRunAsync()
    {
        using var alice = Client(Who.Owner);
        var response = await alice.PostAsJsonAsync("/api/runs", RunSpec());
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.ReadAsAsync<RunView>()).Id;
    }

    private async Task<string> SpareKeyAsync()
    {
        var name = $"spare-{Interlocked.Increment(ref _fresh)}";
        await Keys.CreateAsync(_factory, name, Role.Viewer);
        return name;
    }

    private static HttpRequestMessage IrisForm(int seed) => new(HttpMethod.Post, "/api/datasets")
    {
        Content = Workflow.CsvForm(File.ReadAllBytes(Workflow.IrisPath), "iris.csv", ("name", $"iris-{seed}"), ("seed", seed.ToString(System.Globalization.CultureInfo.InvariantCulture))),
    };

    private static Func<Who, Task<HttpRequestMessage>> Get(string path) => _ => Task.FromResult(new HttpRequestMessage(HttpMethod.Get, path));

    private static Task<HttpRequestMessage> Json(HttpMethod method, string path, object body) =>
        Task.FromResult(new HttpRequestMessage(method, path) { Content = JsonContent.Create(body) });

    private static HttpRequestMessage Form(string path, params (string Name, string Value)[] fields) =>
        new(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(fields.Select(field => KeyValuePair.Create(field.Name, field.Value))) };

    private HttpClient Client(Who who)
    {
        var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = _address };
        if (_keys.TryGetValue(who, out var key))
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        return client;
    }
}

/// <summary>Keys made the way the keys command makes them.</summary>
public static class Keys
{
    public static async Task<string> CreateAsync(ApiFactory factory, string name, Role role, DateTimeOffset? expiresAt = null)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var (created, errors) = await scope.ServiceProvider.GetRequiredService<ApiKeys>().CreateAsync(name, role.ToText(), expiresAt, Caller.CommandLine, CancellationToken.None);
        Assert.True(created is not null, errors.ToString());
        return created.Key;
    }

    public static HttpClient ClientWith(this ApiFactory factory, string? key)
    {
        var client = factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        return client;
    }
}
