using Experiments.Domain.Access;
using Microsoft.AspNetCore.SignalR;

namespace Experiments.Api.Access;

/// <summary>
/// A hub connection lives for hours; its key was checked when it connected. Every call it makes (joining a run's
/// events, say) checks the key again, and a revoked or expired key's connection is closed.
/// </summary>
public sealed class RevokedKeyHubFilter : IHubFilter
{
    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        var user = invocationContext.Context.User;
        if (Guid.TryParse(user?.FindFirst(AccessClaims.KeyId)?.Value, out var keyId)
            && !await invocationContext.ServiceProvider.GetRequiredService<ApiKeys>().IsValidAsync(keyId, invocationContext.Context.ConnectionAborted))
        {
            invocationContext.Context.Abort();
            throw new HubException("This connection's key was revoked or has expired; connect again with a valid key.");
        }
        return await next(invocationContext);
    }
}
