using Experiments.Domain.Access;
using Microsoft.AspNetCore.Components.Authorization;

namespace Experiments.Web.Services;

/// <summary>
/// The person signed in to this circuit: who they are, for showing only the actions their role allows, and their key,
/// which the dashboard's calls to the REST API and the hub present so that they act as that person.
/// </summary>
public sealed class DashboardCaller(AuthenticationStateProvider authentication)
{
    /// <summary>The signed-in key; null on a service without keys, whose loopback callers need none.</summary>
    public async Task<string?> KeyAsync() => (await authentication.GetAuthenticationStateAsync()).User.FindFirst(AccessClaims.Key)?.Value;

    /// <summary>The caller a component's cascaded authentication state stands for (open access where none is cascaded).</summary>
    public static async Task<Caller> OfAsync(Task<AuthenticationState>? state) => state is null ? Caller.Open : Caller.Of((await state).User);
}
