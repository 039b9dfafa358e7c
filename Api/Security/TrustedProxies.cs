using System.Net;
using Microsoft.AspNetCore.HttpOverrides;

namespace Experiments.Api.Security;

/// <summary>
/// <c>Experiments:ForwardedHeaders</c>: the reverse proxies whose <c>X-Forwarded-For</c>, <c>X-Forwarded-Proto</c> and
/// <c>X-Forwarded-Host</c> are believed. Empty by default: the headers are then ignored, whoever sends them.
/// </summary>
public sealed class ForwardedHeadersSettings
{
    public const string Section = "Experiments:ForwardedHeaders";

    /// <summary>Addresses of the proxies, such as <c>10.0.0.5</c> or <c>::1</c>.</summary>
    public List<string> KnownProxies { get; set; } = [];

    /// <summary>Networks the proxies are in, in CIDR notation, such as <c>10.0.0.0/8</c>.</summary>
    public List<string> KnownNetworks { get; set; } = [];
}

/// <summary>
/// The proxies of <see cref="ForwardedHeadersSettings"/>, parsed. With none, ASP.NET Core's forwarded headers middleware is
/// not in the pipeline at all, so no client can make its request look as if it came from elsewhere (this machine, say),
/// over HTTPS, or for another host name.
/// </summary>
public sealed class TrustedProxies
{
    private TrustedProxies(IReadOnlyList<IPAddress> addresses, IReadOnlyList<System.Net.IPNetwork> networks)
    {
        Addresses = addresses;
        Networks = networks;
    }

    public IReadOnlyList<IPAddress> Addresses { get; }

    public IReadOnlyList<System.Net.IPNetwork> Networks { get; }

    /// <summary>
    /// True when a proxy is configured: requests may then reach this service through it, so a peer address on this
    /// machine does not mean a person on this machine.
    /// </summary>
    public bool AnyConfigured => Addresses.Count > 0 || Networks.Count > 0;

    /// <summary>Parses the settings; a value that is not an address or a network stops the start-up with a message naming it.</summary>
    public static TrustedProxies From(ForwardedHeadersSettings settings)
    {
        var addresses = settings.KnownProxies.Select((value, index) => ParseAddress(value.Trim(), $"{ForwardedHeadersSettings.Section}:{nameof(settings.KnownProxies)}:{index}")).ToList();
        var networks = settings.KnownNetworks.Select((value, index) => ParseNetwork(value.Trim(), $"{ForwardedHeadersSettings.Section}:{nameof(settings.KnownNetworks)}:{index}")).ToList();
        return new TrustedProxies(addresses, networks);
    }

    /// <summary>For, Proto and Host from these proxies only, through a chain of them (each hop is checked).</summary>
    public void ApplyTo(ForwardedHeadersOptions options)
    {
        options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost;
        // ASP.NET Core trusts loopback proxies by default; only what is configured is trusted here.
        options.KnownProxies.Clear();
        options.KnownIPNetworks.Clear();
        foreach (var address in Addresses)
        {
            options.KnownProxies.Add(address);
        }
        foreach (var network in Networks)
        {
            options.KnownIPNetworks.Add(network);
        }
        // Every entry is taken only while the address it came from is a known proxy, so no limit is needed.
        options.ForwardLimit = null;
    }

    private static IPAddress ParseAddress(string value, string setting) =>
        FullAddress(value) is { } address
            ? address
            : throw new InvalidOperationException(
                $"{setting} '{value}' is not an IP address: write one such as 10.0.0.5 or ::1 (a network goes in {ForwardedHeadersSettings.Section}:KnownNetworks, as 10.0.0.0/8).");

    /// <summary>
    /// A network whose address is written in full and has no bits set after the prefix: .NET would read 10.1.2.3/8 as
    /// 10.0.0.0/8 and 10/8 as 0.0.0.0/8, trusting more than was meant.
    /// </summary>
    private static System.Net.IPNetwork ParseNetwork(string value, string setting) =>
        FullAddress(value.Split('/')[0]) is { } written && System.Net.IPNetwork.TryParse(value, out var network) && network.BaseAddress.Equals(written)
            ? network
            : throw new InvalidOperationException(
                $"{setting} '{value}' is not a network in CIDR notation: write one such as 10.0.0.0/8 or fd00::/8, with no bits set after the prefix (10.0.0.0/8, not 10.1.2.3/8).");

    /// <summary>IPAddress also reads "10" as 0.0.0.10: an IPv4 address must be written with its four parts.</summary>
    private static IPAddress? FullAddress(string value) =>
        (value.Contains(':', StringComparison.Ordinal) || value.Count(c => c == '.') == 3) && IPAddress.TryParse(value, out var address) ? address : null;
}
