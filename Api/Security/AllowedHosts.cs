using System.Net;
using Microsoft.Extensions.Primitives;

namespace Experiments.Api.Security;

/// <summary>
/// The host names this service answers to: the root setting <c>AllowedHosts</c>, read as ASP.NET Core's host filtering
/// reads it (semicolon-separated, ports ignored, <c>*.example.com</c> for every subdomain, <c>*</c> for any name).
/// A page on attacker.example whose name is made to resolve to this machine (DNS rebinding) sends
/// <c>Host: attacker.example</c> and is refused.
/// </summary>
public sealed class AllowedHosts
{
    public const string Setting = "AllowedHosts";

    /// <summary>What is served when the setting is missing or empty: this machine's own names.</summary>
    public const string Default = "localhost;127.0.0.1;[::1]";

    private static readonly StringSegment[] LoopbackNames = ["localhost", "127.0.0.1", "[::1]"];

    private readonly List<StringSegment> _patterns;

    private AllowedHosts(string configured)
    {
        Configured = configured;
        // Punycode, as the Host header carries it: a name written in Unicode in the setting still matches.
        _patterns = configured.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(pattern => new StringSegment(new HostString(pattern).ToUriComponent()))
            .ToList();
    }

    /// <summary>The setting as written, for messages.</summary>
    public string Configured { get; }

    public static AllowedHosts From(IConfiguration configuration) =>
        new(string.IsNullOrWhiteSpace(configuration[Setting]) ? Default : configuration[Setting]!.Trim());

    /// <summary>
    /// Whether the request's Host is served. The loopback names are also served to a connection from this machine
    /// whatever the setting says: no web page can make a browser send them for another site's name, and the
    /// dashboard calls its own API and hub at a loopback address when the service listens on a wildcard address
    /// (<see cref="Experiments.Web.Services.SelfAddress"/>). A request without a Host (HTTP/1.0) is served, as ASP.NET Core does.
    /// </summary>
    public bool Serve(HttpContext context)
    {
        var host = context.Request.Headers.Host.ToString();
        if (host.Length == 0)
        {
            return true;
        }
        try
        {
            return HostString.MatchesAny(host, _patterns)
                || (HostString.MatchesAny(host, LoopbackNames) && IsLoopback(context.Connection.RemoteIpAddress));
        }
        catch (FormatException)
        {
            // A malformed port: not a name anyone configured.
            return false;
        }
    }

    private static bool IsLoopback(IPAddress? address) => address is not null && HttpExtensions.IsLoopback(address);
}

/// <summary>Answers a request for a host name not in <see cref="AllowedHosts"/> with 400, naming the name and the setting.</summary>
internal sealed class AllowedHostsMiddleware(RequestDelegate next, AllowedHosts allowed)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (allowed.Serve(context))
        {
            return next(context);
        }
        var name = context.Request.Host.Host;
        return Problems.WriteAsync(context, StatusCodes.Status400BadRequest, "This host name is not served here.",
            $"'{name}' is not in {AllowedHosts.Setting} ({allowed.Configured}). If this service is meant to be reached by that name, add it: "
            + $"{AllowedHosts.Setting}={allowed.Configured};{name} (in appsettings.json, as the environment variable {AllowedHosts.Setting}, "
            + $"or --{AllowedHosts.Setting}=... on the command line).", "Host");
    }
}
