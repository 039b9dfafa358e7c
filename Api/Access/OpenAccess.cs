using System.Net;
using Experiments.Api.Persistence;
using Experiments.Api.Security;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Experiments.Api.Access;

/// <summary>
/// Whether a request without a key is answered, as an admin: only while no key exists, keys are not required by
/// configuration, no proxy forwards requests (a proxy makes remote callers look local) and the caller connects from
/// this machine. Once a key exists it is remembered for the life of the process (keys are revoked, never removed).
/// </summary>
public sealed class OpenAccess(IDbContextFactory<ExperimentsDbContext> databases, IOptions<AuthOptions> options, TrustedProxies proxies)
{
    private volatile bool _keysExist;

    public bool Required => options.Value.Required;

    public bool BehindProxy => proxies.AnyConfigured;

    public async ValueTask<bool> KeysExistAsync(CancellationToken cancellationToken)
    {
        if (_keysExist)
        {
            return true;
        }
        await using var db = await databases.CreateDbContextAsync(cancellationToken);
        _keysExist = await AnyKey.For(db)(db, cancellationToken);
        return _keysExist;
    }

    // Asked on every request a local caller sends without a key, for as long as no key exists: compiled.
    private static readonly CompiledPerModel<Func<ExperimentsDbContext, CancellationToken, Task<bool>>> AnyKey =
        new(() => EF.CompileAsyncQuery((ExperimentsDbContext db, CancellationToken cancellationToken) => db.ApiKeys.Any()));

    public async ValueTask<bool> AppliesToAsync(HttpContext context) =>
        !Required && !BehindProxy && IsThisMachine(context.Connection.RemoteIpAddress) && !await KeysExistAsync(context.RequestAborted);

    /// <summary>A loopback address; no address at all is an in-process or Unix-socket connection, also from this machine.</summary>
    public static bool IsThisMachine(IPAddress? remote) => remote is null || HttpExtensions.IsLoopback(remote);
}
