using Experiments.Tests.Support;
using System.Net;
using System.Net.Http.Json;
using Experiments.Api.Access;
using Experiments.Domain.Access;
using Experiments.Domain.Runs;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Experiments.Tests.Api.Access;

/// <summary>Keys as a user meets them: how they are presented, refused, revoked, expired, limited; what they record.</summary>
[Collection(OneAtATime.Name)]
public sealed class KeyTests
{
    [Fact]
    public async Task Without_keys_loopback_callers_are_open_admins_and_once_a_key_exists_every_request_needs_one()
    {
        using var factory = new ApiFactory { Trains = false };
        using var anonymous = factory.ClientWith(null);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/api/runs")).StatusCode);
        var dataset = await Workflow.ImportIrisAsync(anonymous);
        Assert.Null(dataset.CreatedBy);

        var admin = await Keys.CreateAsync(factory, "root", Role.Admin);
        var refused = await anonymous.GetAsync("/api/runs");
        var problem = await ProblemAssertions.ExpectProblemAsync(refused, HttpStatusCode.Unauthorized);
        Assert.Contains("Bearer", refused.Headers.WwwAuthenticate.ToString());
        Assert.Contains("keys create", problem.Detail);
        using var withKey = factory.ClientWith(admin);
        Assert.Equal(HttpStatusCode.OK, (await withKey.GetAsync("/api/runs")).StatusCode);
        using var apiKeyHeader = factory.ClientWith(null);
        apiKeyHeader.DefaultRequestHeaders.Add("X-Api-Key", admin);
        Assert.Equal(HttpStatusCode.OK, (await apiKeyHeader.GetAsync("/api/runs")).StatusCode);
        // Health needs no key (it is unhealthy here: this host has no Hangfire server).
        Assert.NotEqual(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/health")).StatusCode);
    }

    [Fact]
    public async Task Required_refuses_loopback_callers_before_the_first_key_exists()
    {
        using var factory = new ApiFactory { Trains = false, Settings = { ["Experiments:Auth:Required"] = "true" } };
        using var anonymous = factory.ClientWith(null);
        var problem = await ProblemAssertions.ExpectProblemAsync(await anonymous.GetAsync("/api/datasets"), HttpStatusCode.Unauthorized);
        Assert.Contains("Experiments:Auth:Required", problem.Detail);
    }

    [Fact]
    public async Task A_key_in_the_query_string_is_refused_and_a_mangled_key_says_what_is_wrong()
    {
        using var factory = new ApiFactory { Trains = false };
        var key = await Keys.CreateAsync(factory, "root", Role.Admin);
        using var anonymous = factory.ClientWith(null);
        var inQuery = await ProblemAssertions.ExpectProblemAsync(await anonymous.GetAsync($"/api/runs?access_token={key}"), HttpStatusCode.Unauthorized);
        Assert.Contains("query string", inQuery.Detail);

        using var truncated = factory.ClientWith(key[..^3]);
        var cut = await ProblemAssertions.ExpectProblemAsync(await truncated.GetAsync("/api/runs"), HttpStatusCode.Unauthorized);
        Assert.Contains("copied whole", cut.Detail);

        using var basic = factory.ClientWith(null);
        basic.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", "cm9vdDpwYXNzd29yZA==");
        var wrongScheme = await ProblemAssertions.ExpectProblemAsync(await basic.GetAsync("/api/runs"), HttpStatusCode.Unauthorized);
        Assert.Contains("Bearer", wrongScheme.Detail);

        // A client that takes no JSON still hears why, in plain text, not a 500.
        using var plain = factory.ClientWith(null);
        plain.DefaultRequestHeaders.Accept.ParseAdd("text/plain");
        var refused = await plain.GetAsync("/api/runs");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("keys create", await refused.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_revoked_key_stops_working_on_its_next_request_and_an_expired_one_never_works()
    {
        using var factory = new ApiFactory { Trains = false };
        var admin = await Keys.CreateAsync(factory, "root", Role.Admin);
        using var root = factory.ClientWith(admin);
        var created = await root.PostAsJsonAsync("/api/keys", new { name = "alice", role = "editor" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var alice = await created.ReadAsAsync<CreatedApiKey>();
        Assert.StartsWith(ApiKeys.Prefix, alice.Key);
        Assert.True(alice.Key.Length >= ApiKeys.Prefix.Length + 43, "256 bits of base64url");
        using var aliceClient = factory.ClientWith(alice.Key);
        Assert.Equal(HttpStatusCode.OK, (await aliceClient.GetAsync("/api/datasets")).StatusCode);

        var listed = await (await root.GetAsync("/api/keys")).Content.ReadAsStringAsync();
        Assert.Contains("\"alice\"", listed);
        Assert.DoesNotContain(alice.Key, listed);
        Assert.Contains("lastUsedAt", listed);

        Assert.Equal(HttpStatusCode.OK, (await root.DeleteAsync("/api/keys/alice")).StatusCode);
        var revoked = await ProblemAssertions.ExpectProblemAsync(await aliceClient.GetAsync("/api/datasets"), HttpStatusCode.Unauthorized);
        Assert.Contains("revoked", revoked.Detail);
        Assert.Equal(HttpStatusCode.NotFound, (await root.DeleteAsync("/api/keys/alice")).StatusCode);

        var duplicate = await ProblemAssertions.ExpectProblemAsync(await root.PostAsJsonAsync("/api/keys", new { name = "root", role = "viewer" }));
        Assert.Contains("name", duplicate.Errors.Keys);
        var badRole = await ProblemAssertions.ExpectProblemAsync(await root.PostAsJsonAsync("/api/keys", new { name = "carol", role = "owner" }));
        Assert.Contains("role", badRole.Errors.Keys);
        var past = await ProblemAssertions.ExpectProblemAsync(await root.PostAsJsonAsync("/api/keys", new { name = "carol", role = "viewer", expiresAt = DateTimeOffset.UtcNow.AddDays(-1) }));
        Assert.Contains("expiresAt", past.Errors.Keys);

        var soon = await Keys.CreateAsync(factory, "brief", Role.Viewer, DateTimeOffset.UtcNow.AddSeconds(1));
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        using var expiredClient = factory.ClientWith(soon);
        var expired = await ProblemAssertions.ExpectProblemAsync(await expiredClient.GetAsync("/api/datasets"), HttpStatusCode.Unauthorized);
        Assert.Contains("expired", expired.Detail);
    }

    [Fact]
    public async Task What_an_editor_creates_is_theirs_listed_by_creator_and_every_change_is_in_the_audit_log()
    {
        using var factory = new ApiFactory { Trains = false };
        using var alice = factory.ClientWith(await Keys.CreateAsync(factory, "alice", Role.Editor));
        using var bob = factory.ClientWith(await Keys.CreateAsync(factory, "bob", Role.Editor));
        using var root = factory.ClientWith(await Keys.CreateAsync(factory, "root", Role.Admin));
        var (datasetId, modelId) = await Workflow.ImportIrisAndMlpAsync(alice);
        var run = await Workflow.CreateRunAsync(alice, datasetId, modelId);
        Assert.Equal("alice", run.CreatedBy);

        var notBobs = await ProblemAssertions.ExpectProblemAsync(await bob.PostAsync($"/api/runs/{run.Id}/cancel", null), HttpStatusCode.Forbidden);
        Assert.Contains("'alice'", notBobs.Detail);
        Assert.Equal(RunStatus.Queued, (await (await root.GetAsync($"/api/runs/{run.Id}")).ReadAsAsync<RunView>()).Status);
        var bobsRun = await Workflow.CreateRunAsync(bob, datasetId, modelId);

        var alicesRuns = await (await root.GetAsync("/api/runs?createdBy=alice")).ReadAsAsync<Experiments.Domain.Page<RunListItem>>();
        Assert.Equal([run.Id], alicesRuns.Items.Select(item => item.Id));
        Assert.Equal(1, (await (await root.GetAsync("/api/datasets?createdBy=alice")).ReadAsAsync<Experiments.Domain.Page<Experiments.Domain.Datasets.DatasetView>>()).TotalCount);
        Assert.Equal(0, (await (await root.GetAsync("/api/models?createdBy=bob")).ReadAsAsync<Experiments.Domain.Page<Experiments.Domain.Models.ModelView>>()).TotalCount);

        Assert.Equal(HttpStatusCode.Accepted, (await alice.PostAsync($"/api/runs/{run.Id}/cancel", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await root.PostAsync($"/api/runs/{bobsRun.Id}/cancel", null)).StatusCode);
        var forbiddenDelete = await ProblemAssertions.ExpectProblemAsync(await bob.DeleteAsync($"/api/datasets/{datasetId}?force=true"), HttpStatusCode.Forbidden);
        Assert.Contains("dataset", forbiddenDelete.Detail);
        // Alice's dataset holds Bob's (finished) run: she may not delete his run with it.
        await ProblemAssertions.ExpectProblemAsync(await alice.DeleteAsync($"/api/datasets/{datasetId}?force=true"), HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.NoContent, (await root.DeleteAsync($"/api/datasets/{datasetId}?force=true")).StatusCode);

        Assert.Equal(HttpStatusCode.Forbidden, (await alice.GetAsync("/api/audit")).StatusCode);
        var audit = await (await root.GetAsync("/api/audit?pageSize=100")).ReadAsAsync<Experiments.Domain.Page<AuditEntryView>>();
        var actions = audit.Items.Select(entry => $"{entry.Actor} {entry.Action}").Reverse().ToList();
        Assert.Equal(
            [
                "cli:" + Environment.UserName + " key.create", "cli:" + Environment.UserName + " key.create", "cli:" + Environment.UserName + " key.create",
                "alice dataset.create", "alice model.create", "alice run.create", "bob run.create", "alice run.cancel", "root run.cancel", "root dataset.delete",
            ],
            actions);
        var byAlice = await (await root.GetAsync("/api/audit?actor=alice&action=run.cancel")).ReadAsAsync<Experiments.Domain.Page<AuditEntryView>>();
        Assert.Equal($"runs/{run.Id}", Assert.Single(byAlice.Items).Target);
    }

    [Fact]
    public async Task Too_many_failed_keys_from_one_address_and_too_many_changes_from_one_key_are_answered_429()
    {
        using var factory = new ApiFactory
        {
            Trains = false,
            Settings = { ["Experiments:Auth:FailedAttemptsPerMinute"] = "3", ["Experiments:Auth:MutationsPerMinute"] = "2" },
        };
        var key = await Keys.CreateAsync(factory, "alice", Role.Editor);
        using var guesser = factory.ClientWith(ApiKeys.Prefix + new string('A', ApiKeys.KeyLength - ApiKeys.Prefix.Length));
        for (var attempt = 0; attempt < 3; attempt++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await guesser.GetAsync("/api/runs")).StatusCode);
        }
        var blocked = await guesser.GetAsync("/api/runs");
        await ProblemAssertions.ExpectProblemAsync(blocked, HttpStatusCode.TooManyRequests);
        Assert.True(blocked.Headers.RetryAfter?.Delta > TimeSpan.Zero);

        using var alice = factory.ClientWith(key);
        // The same address, with a valid key, is blocked too while the window lasts: a guesser cannot hide behind one.
        Assert.Equal(HttpStatusCode.TooManyRequests, (await alice.GetAsync("/api/runs")).StatusCode);
    }

    [Fact]
    public async Task Changes_beyond_the_per_key_limit_are_answered_429_and_reads_are_not_limited()
    {
        using var factory = new ApiFactory { Trains = false, Settings = { ["Experiments:Auth:MutationsPerMinute"] = "2" } };
        using var alice = factory.ClientWith(await Keys.CreateAsync(factory, "alice", Role.Editor));
        await Workflow.CreateMlpAsync(alice, name: "one");
        await Workflow.CreateMlpAsync(alice, name: "two");
        var third = await alice.PostAsJsonAsync("/api/models", new { name = "three", layers = new object[] { new { type = "linear", outFeatures = 3 } } });
        var problem = await ProblemAssertions.ExpectProblemAsync(third, HttpStatusCode.TooManyRequests);
        Assert.Contains("MutationsPerMinute", problem.Detail);
        Assert.NotNull(third.Headers.RetryAfter);
        for (var read = 0; read < 5; read++)
        {
            Assert.Equal(HttpStatusCode.OK, (await alice.GetAsync("/api/models")).StatusCode);
        }
    }

    [Fact]
    public async Task The_hub_needs_a_key_and_closes_a_connection_whose_key_was_revoked()
    {
        using var factory = new ApiFactory { Trains = false };
        var key = await Keys.CreateAsync(factory, "vera", Role.Viewer);
        HubConnection Connect(string? token) => new HubConnectionBuilder()
            .WithUrl(new Uri(factory.Server.BaseAddress, "hubs/runs"), options =>
            {
                options.Transports = HttpTransportType.LongPolling;
                options.HttpMessageHandlerFactory = _ => factory.Server.CreateHandler();
                options.AccessTokenProvider = () => Task.FromResult(token);
            })
            .Build();

        await using (var anonymous = Connect(null))
        {
            var refused = await Assert.ThrowsAsync<HttpRequestException>(() => anonymous.StartAsync());
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }
        await using var viewer = Connect(key);
        await viewer.StartAsync();
        await viewer.InvokeAsync("JoinAll");

        await using (var scope = factory.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<ApiKeys>().RevokeAsync("vera", Caller.CommandLine, CancellationToken.None);
        }
        // Its next request is refused (over long polling, the transport's own request answers 401; over WebSockets the hub
        // filter closes the connection with "revoked").
        await Assert.ThrowsAnyAsync<Exception>(() => viewer.InvokeAsync("JoinAll"));
    }

    [Fact]
    public async Task Sign_in_sets_a_strict_http_only_cookie_that_acts_as_the_key_and_never_redirects_off_the_site()
    {
        using var factory = new ApiFactory { Trains = false };
        var key = await Keys.CreateAsync(factory, "alice", Role.Editor);
        using var browser = factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        async Task<HttpResponseMessage> SignInAsync(string presented, string returnUrl)
        {
            var page = await (await browser.GetAsync("/signin")).Content.ReadAsStringAsync();
            var token = System.Text.RegularExpressions.Regex.Match(page, "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"").Groups[1].Value;
            Assert.NotEmpty(token);
            return await browser.PostAsync("/account/signin", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["__RequestVerificationToken"] = token, ["key"] = presented, ["returnUrl"] = returnUrl,
            }));
        }

        var wrong = await SignInAsync("exp_wrong", "/datasets");
        Assert.Equal(HttpStatusCode.Redirect, wrong.StatusCode);
        Assert.StartsWith("/signin?error=", wrong.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.Redirect, (await browser.GetAsync("/datasets")).StatusCode);

        foreach (var offSite in new[] { "//evil.example/", "/\\evil.example", "https://evil.example/", "/\t/evil.example" })
        {
            var signedIn = await SignInAsync(key, offSite);
            Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
            Assert.Equal("/", signedIn.Headers.Location!.OriginalString);
            var cookie = Assert.Single(signedIn.Headers.GetValues("Set-Cookie"), value => value.StartsWith("experiments_session=", StringComparison.Ordinal));
            Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(key, cookie, StringComparison.Ordinal);
        }

        // The session acts as Alice on the API as well (the dashboard's download links), until she signs out.
        var mine = await Workflow.CreateMlpAsync(browser);
        Assert.Equal("alice", mine.CreatedBy);
        await browser.PostAsync("/account/signout", new FormUrlEncodedContent([]));
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync("/api/models")).StatusCode);
    }
}
