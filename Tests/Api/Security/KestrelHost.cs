using Experiments.Tests.Support;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Experiments.Tests.Api.Security;

/// <summary>A host on a Kestrel loopback port that trains nothing: queued runs stay queued, WebSockets are real.</summary>
public sealed class KestrelHost : IDisposable
{
    public KestrelHost()
    {
        Factory.UseKestrel(0);
        Factory.StartServer();
        Address = new Uri(Factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }

    public ApiFactory Factory { get; } = new() { Trains = false };

    /// <summary>http://127.0.0.1:port/</summary>
    public Uri Address { get; }

    /// <summary>The origin a page of this service has: scheme://host:port.</summary>
    public string OwnOrigin => Address.GetLeftPart(UriPartial.Authority);

    public HttpClient CreateClient() => new() { BaseAddress = Address };

    public void Dispose() => Factory.Dispose();
}
