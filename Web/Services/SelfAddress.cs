using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;

namespace Experiments.Web.Services;

/// <summary>
/// Where this process listens, as seen from inside it. The dashboard's components run in this process and send
/// their writes to the REST API and subscribe to the runs hub at this address (docs/decisions/007).
/// </summary>
public sealed class SelfAddress(IServer server)
{
    private Uri? _uri;

    public Uri Uri => _uri ??= Resolve(server.Features.Get<IServerAddressesFeature>()?.Addresses ?? []);

    /// <summary>The first plain-HTTP address (else the first one), with a wildcard host replaced by loopback.</summary>
    public static Uri Resolve(IEnumerable<string> addresses)
    {
        var listed = addresses.ToList();
        var chosen = listed.FirstOrDefault(address => address.StartsWith("http://", StringComparison.OrdinalIgnoreCase)) ?? listed.FirstOrDefault()
            ?? throw new InvalidOperationException("The dashboard calls the service's own API, but the server reports no address it listens on; set Urls, e.g. http://localhost:5000.");
        var binding = BindingAddress.Parse(chosen);
        var host = binding.Host switch
        {
            "+" or "*" or "0.0.0.0" => "127.0.0.1",
            "[::]" or "::" => "[::1]",
            var other => other,
        };
        var pathBase = binding.PathBase.TrimEnd('/');
        return new Uri($"{binding.Scheme}://{host}:{binding.Port}{pathBase}/");
    }
}
