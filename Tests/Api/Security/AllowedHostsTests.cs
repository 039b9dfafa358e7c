using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Experiments.Tests.Support;
using Experiments.Web.Services;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Experiments.Tests.Api.Security;

/// <summary>The default AllowedHosts (this machine's names) on the in-memory test server, whose requests say Host: localhost.</summary>
[Collection(OneAtATime.Name)]
public sealed class AllowedHostsTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task A_foreign_host_name_is_refused_with_400_naming_it_and_the_setting_to_add_it_to()
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/runs");
        request.Headers.Host = "attacker.example";

        var problem = await ProblemAssertions.ExpectProblemAsync(await factory.CreateClient().SendAsync(request));

        Assert.Equal("This host name is not served here.", problem.Title);
        Assert.Equal(
            "'attacker.example' is not in AllowedHosts (localhost;127.0.0.1;[::1]). If this service is meant to be reached by that name, add it: "
            + "AllowedHosts=localhost;127.0.0.1;[::1];attacker.example (in appsettings.json, as the environment variable AllowedHosts, or --AllowedHosts=... on the command line).",
            Assert.Single(problem.Errors["Host"]));
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("localhost:5000")]
    [InlineData("LOCALHOST:5000")]
    [InlineData("127.0.0.1:8080")]
    [InlineData("[::1]:5000")]
    public async Task The_default_names_are_served_on_any_port(string host)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/health");
        request.Headers.Host = host;

        Assert.Equal(HttpStatusCode.OK, (await factory.CreateClient().SendAsync(request)).StatusCode);
    }

    [Theory]
    [InlineData("localhost.attacker.example")]
    [InlineData("127.0.0.1.nip.io")]
    [InlineData("attacker.example:5000")]
    public async Task A_name_that_only_looks_like_this_machine_is_refused(string host)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.Host = host;

        await ProblemAssertions.ExpectProblemAsync(await factory.CreateClient().SendAsync(request));
    }

    [Fact]
    public async Task A_refused_host_changes_nothing()
    {
        var client = factory.CreateClient();
        var before = (await client.GetStringAsync("/api/models")).Length;
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/models")
        {
            Content = System.Net.Http.Json.JsonContent.Create(new { name = "rebound", layers = new[] { new { type = "linear", outFeatures = 2 } } }),
        };
        request.Headers.Host = "attacker.example";

        await ProblemAssertions.ExpectProblemAsync(await client.SendAsync(request));

        Assert.Equal(before, (await client.GetStringAsync("/api/models")).Length);
    }
}

/// <summary>AllowedHosts set to the names a team reaches the service by; requests sent with any peer address (and the admin key).</summary>
[Collection(OneAtATime.Name)]
public sealed class ConfiguredAllowedHostsTests : IClassFixture<ConfiguredAllowedHostsTests.Host>
{
    private readonly Host _host;

    public ConfiguredAllowedHostsTests(Host host) => _host = host;

    [Theory]
    [InlineData("experiments.example")]
    [InlineData("Experiments.Example:8443")]
    [InlineData("gpu1.lab.example")]
    public async Task Configured_names_and_wildcard_subdomains_are_served(string host)
    {
        Assert.Equal(StatusCodes.Status200OK, (await SendAsync(host, "203.0.113.7")).Response.StatusCode);
    }

    [Theory]
    [InlineData("lab.example")]
    [InlineData("experiments.example.attacker.example")]
    public async Task Names_outside_the_setting_are_refused(string host)
    {
        Assert.Equal(StatusCodes.Status400BadRequest, (await SendAsync(host, "203.0.113.7")).Response.StatusCode);
    }

    [Theory]
    [InlineData("localhost", "127.0.0.1")]
    [InlineData("127.0.0.1:5000", "127.0.0.1")]
    [InlineData("[::1]:5000", "::1")]
    [InlineData("127.0.0.1", "::ffff:127.0.0.1")]
    public async Task This_machines_names_are_still_served_to_a_connection_from_this_machine(string host, string peer)
    {
        Assert.Equal(StatusCodes.Status200OK, (await SendAsync(host, peer)).Response.StatusCode);
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("127.0.0.1")]
    public async Task This_machines_names_are_refused_to_a_connection_from_elsewhere_when_not_configured(string host)
    {
        Assert.Equal(StatusCodes.Status400BadRequest, (await SendAsync(host, "203.0.113.7")).Response.StatusCode);
    }

    private Task<HttpContext> SendAsync(string host, string peer) => _host.Factory.Server.SendAsync(context =>
    {
        context.Request.Method = HttpMethods.Get;
        context.Request.Path = "/api/models";
        context.Request.Host = new HostString(host);
        context.Request.Headers.Authorization = $"Bearer {_host.AdminKey}";
        context.Connection.RemoteIpAddress = IPAddress.Parse(peer);
    });

    public sealed class Host : KeyedHost
    {
        protected override IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string> { ["AllowedHosts"] = "experiments.example;*.lab.example" };
    }
}

/// <summary>
/// The service bound to every interface (http://0.0.0.0:port, which needs a key to exist) and reached by its own name
/// only: the dashboard's calls to its REST API and hub, sent to the loopback address (<see cref="SelfAddress"/>) with the
/// signed-in person's key, are still served.
/// </summary>
[Collection(OneAtATime.Name)]
public sealed class WildcardBindingTests : IClassFixture<WildcardBindingTests.Host>
{
    private readonly Host _host;

    public WildcardBindingTests(Host host) => _host = host;

    [Fact]
    public async Task The_dashboards_calls_to_its_own_api_and_hub_are_served_at_the_loopback_self_address()
    {
        var self = _host.Factory.Services.GetRequiredService<SelfAddress>();
        Assert.Equal($"http://127.0.0.1:{_host.Port}/", self.Uri.ToString());
        // As ExperimentsClient and RunsHubClient send them from a signed-in circuit.
        using var api = new HttpClient { BaseAddress = self.Uri };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _host.AdminKey);

        var validated = await api.PostAsJsonAsync("api/models/validate", new { layers = new[] { new { type = "relu" } }, inputShape = new[] { 4 } });
        await using var hub = new HubConnectionBuilder()
            .WithUrl(new Uri(self.Uri, "hubs/runs"), options => options.AccessTokenProvider = () => Task.FromResult<string?>(_host.AdminKey))
            .Build();
        await hub.StartAsync();
        await hub.InvokeAsync("JoinAll");

        Assert.Equal(HttpStatusCode.OK, validated.StatusCode);
    }

    [Fact]
    public async Task Its_own_name_is_served_and_another_refused()
    {
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_host.Port}/") };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _host.AdminKey);

        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(WithHost("experiments.example"))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.SendAsync(WithHost("attacker.example"))).StatusCode);
    }

    private static HttpRequestMessage WithHost(string host)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/models");
        request.Headers.Host = host;
        return request;
    }

    public sealed class Host : KeyedHost
    {
        public int Port => new Uri(Factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;

        protected override IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string> { ["AllowedHosts"] = "experiments.example" };

        protected override void Configure(ApiFactory factory) => factory.UseKestrel(kestrel => kestrel.Listen(IPAddress.Any, 0));
    }
}
