using System.Net;
using Experiments.Api.Security;
using Experiments.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Experiments.Tests.Api.Security;

/// <summary>Sends one request with a given peer address and X-Forwarded-* headers; answers the request as the service saw it.</summary>
internal static class Forwarded
{
    public static Task<HttpContext> SendAsync(KeyedHost host, string peer, string? forwardedFor = null, string? proto = null, string? forwardedHost = null,
        string method = "GET", string path = "/api/models", string? origin = null) => host.Factory.Server.SendAsync(context =>
    {
        context.Request.Headers.Authorization = $"Bearer {host.AdminKey}";
        context.Request.Method = method;
        context.Request.Path = path;
        context.Request.Host = new HostString("localhost");
        context.Connection.RemoteIpAddress = IPAddress.Parse(peer);
        if (forwardedFor is not null)
        {
            context.Request.Headers["X-Forwarded-For"] = forwardedFor;
        }
        if (proto is not null)
        {
            context.Request.Headers["X-Forwarded-Proto"] = proto;
        }
        if (forwardedHost is not null)
        {
            context.Request.Headers["X-Forwarded-Host"] = forwardedHost;
        }
        if (origin is not null)
        {
            context.Request.Headers.Origin = origin;
        }
    });
}

/// <summary>No proxy configured (the default): whatever a client writes in X-Forwarded-*, the service sees the connection as it is.</summary>
[Collection(OneAtATime.Name)]
public sealed class ForwardedHeadersIgnoredTests : IClassFixture<ForwardedHeadersIgnoredTests.Hosts>
{
    private readonly Hosts _hosts;

    public ForwardedHeadersIgnoredTests(Hosts hosts) => _hosts = hosts;

    public static TheoryData<string> Variants => ["default", "ASPNETCORE_FORWARDEDHEADERS_ENABLED"];

    [Theory]
    [MemberData(nameof(Variants))]
    public async Task X_forwarded_for_proto_and_host_from_a_client_change_nothing(string variant)
    {
        var host = _hosts[variant];

        var seen = await Forwarded.SendAsync(host, peer: "203.0.113.7", forwardedFor: "127.0.0.1", proto: "https", forwardedHost: "localhost:443");

        Assert.Equal(StatusCodes.Status200OK, seen.Response.StatusCode);
        Assert.Equal(IPAddress.Parse("203.0.113.7"), seen.Connection.RemoteIpAddress);
        Assert.Equal("http", seen.Request.Scheme);
        Assert.Equal("localhost", seen.Request.Host.Value);
        Assert.False(host.Factory.Services.GetRequiredService<TrustedProxies>().AnyConfigured);
    }

    [Fact]
    public async Task Even_from_this_machine_the_headers_are_not_believed()
    {
        var seen = await Forwarded.SendAsync(_hosts["default"], peer: "127.0.0.1", forwardedFor: "203.0.113.7");

        Assert.Equal(IPAddress.Loopback, seen.Connection.RemoteIpAddress);
    }

    /// <summary>The default host, and one started with ASP.NET Core's switch that would otherwise trust forwarded headers from every peer.</summary>
    public sealed class Hosts : IAsyncLifetime
    {
        private readonly Dictionary<string, KeyedHost> _hosts = new()
        {
            ["default"] = new KeyedHost(),
            ["ASPNETCORE_FORWARDEDHEADERS_ENABLED"] = new ForwardedHeadersEnabled(),
        };

        public KeyedHost this[string variant] => _hosts[variant];

        public async Task InitializeAsync()
        {
            foreach (var host in _hosts.Values)
            {
                await host.InitializeAsync();
            }
        }

        public async Task DisposeAsync()
        {
            foreach (var host in _hosts.Values)
            {
                await host.DisposeAsync();
            }
        }

        private sealed class ForwardedHeadersEnabled : KeyedHost
        {
            protected override IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string> { ["FORWARDEDHEADERS_ENABLED"] = "true" };
        }
    }
}

/// <summary>A proxy at 10.0.0.5 and a proxy network 192.168.50.0/24 configured; the public name experiments.example allowed.</summary>
[Collection(OneAtATime.Name)]
public sealed class ForwardedHeadersFromProxiesTests : IClassFixture<ForwardedHeadersFromProxiesTests.Host>
{
    private readonly Host _host;

    public ForwardedHeadersFromProxiesTests(Host host) => _host = host;

    [Theory]
    [InlineData("10.0.0.5")]
    [InlineData("192.168.50.9")]
    public async Task From_a_configured_proxy_the_clients_address_scheme_and_host_apply(string proxy)
    {
        var seen = await Forwarded.SendAsync(_host, peer: proxy, forwardedFor: "198.51.100.20", proto: "https", forwardedHost: "experiments.example");

        Assert.Equal(StatusCodes.Status200OK, seen.Response.StatusCode);
        Assert.Equal(IPAddress.Parse("198.51.100.20"), seen.Connection.RemoteIpAddress);
        Assert.Equal("https", seen.Request.Scheme);
        Assert.Equal("experiments.example", seen.Request.Host.Value);
        Assert.True(_host.Factory.Services.GetRequiredService<TrustedProxies>().AnyConfigured);
    }

    [Fact]
    public async Task A_client_writing_its_own_entry_before_the_proxys_gets_the_address_the_proxy_saw()
    {
        var seen = await Forwarded.SendAsync(_host, peer: "10.0.0.5", forwardedFor: "127.0.0.1, 198.51.100.20");

        Assert.Equal(IPAddress.Parse("198.51.100.20"), seen.Connection.RemoteIpAddress);
    }

    [Fact]
    public async Task From_any_other_peer_the_headers_change_nothing()
    {
        var seen = await Forwarded.SendAsync(_host, peer: "203.0.113.7", forwardedFor: "127.0.0.1", proto: "https", forwardedHost: "experiments.example");

        Assert.Equal(IPAddress.Parse("203.0.113.7"), seen.Connection.RemoteIpAddress);
        Assert.Equal("http", seen.Request.Scheme);
        Assert.Equal("localhost", seen.Request.Host.Value);
    }

    [Fact]
    public async Task A_forwarded_host_is_checked_against_allowed_hosts()
    {
        var seen = await Forwarded.SendAsync(_host, peer: "10.0.0.5", forwardedFor: "198.51.100.20", forwardedHost: "attacker.example");

        Assert.Equal(StatusCodes.Status400BadRequest, seen.Response.StatusCode);
    }

    [Fact]
    public async Task The_origin_check_compares_with_the_origin_the_proxy_serves()
    {
        var path = $"/api/runs/{Guid.NewGuid()}/cancel";

        var throughProxy = await Forwarded.SendAsync(_host, peer: "10.0.0.5", proto: "https", forwardedHost: "experiments.example",
            method: "POST", path: path, origin: "https://experiments.example");
        var plainHttp = await Forwarded.SendAsync(_host, peer: "10.0.0.5", forwardedHost: "experiments.example",
            method: "POST", path: path, origin: "https://experiments.example");

        Assert.Equal(StatusCodes.Status404NotFound, throughProxy.Response.StatusCode);
        Assert.Equal(StatusCodes.Status403Forbidden, plainHttp.Response.StatusCode);
    }

    public sealed class Host : KeyedHost
    {
        protected override IReadOnlyDictionary<string, string> Settings { get; } = new Dictionary<string, string>
        {
            ["AllowedHosts"] = "localhost;experiments.example",
            ["Experiments:ForwardedHeaders:KnownProxies:0"] = "10.0.0.5",
            ["Experiments:ForwardedHeaders:KnownNetworks:0"] = "192.168.50.0/24",
        };
    }
}

/// <summary>The settings are read strictly: a value that is not an address or a network is named at start-up.</summary>
public sealed class TrustedProxiesSettingsTests
{
    [Theory]
    [InlineData("10")]
    [InlineData("10.0.0")]
    [InlineData("proxy.internal")]
    [InlineData("10.0.0.0/8")]
    public void A_proxy_that_is_not_a_full_ip_address_is_refused_naming_the_setting(string value)
    {
        var error = Assert.Throws<InvalidOperationException>(() => TrustedProxies.From(new ForwardedHeadersSettings { KnownProxies = ["10.0.0.5", value] }));

        Assert.StartsWith($"Experiments:ForwardedHeaders:KnownProxies:1 '{value}' is not an IP address", error.Message);
    }

    [Theory]
    [InlineData("10.0.0.5")]
    [InlineData("10.1.2.3/8")]
    [InlineData("10/8")]
    [InlineData("10.0.0.0/33")]
    public void A_network_that_is_not_in_cidr_notation_is_refused_naming_the_setting(string value)
    {
        var error = Assert.Throws<InvalidOperationException>(() => TrustedProxies.From(new ForwardedHeadersSettings { KnownNetworks = [value] }));

        Assert.StartsWith($"Experiments:ForwardedHeaders:KnownNetworks:0 '{value}' is not a network in CIDR notation", error.Message);
    }

    [Fact]
    public void Addresses_and_networks_of_both_families_are_read()
    {
        var proxies = TrustedProxies.From(new ForwardedHeadersSettings { KnownProxies = [" 10.0.0.5 ", "::1"], KnownNetworks = ["172.16.0.0/12", "fd00::/8"] });

        Assert.Equal([IPAddress.Parse("10.0.0.5"), IPAddress.IPv6Loopback], proxies.Addresses);
        Assert.Equal([System.Net.IPNetwork.Parse("172.16.0.0/12"), System.Net.IPNetwork.Parse("fd00::/8")], proxies.Networks);
        Assert.False(TrustedProxies.From(new ForwardedHeadersSettings()).AnyConfigured);
    }
}
