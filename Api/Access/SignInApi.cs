using System.Security.Claims;
using Experiments.Domain.Access;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;

namespace Experiments.Api.Access;

/// <summary>
/// The dashboard's sign-in: a person pastes their key into the form of <c>/signin</c>, which posts here; the answer sets
/// an HttpOnly, SameSite=Strict cookie (Secure under HTTPS) that holds, encrypted, the key's name, role and the key
/// itself, so that the dashboard's calls to the REST API act as that person.
/// </summary>
public static class SignInApi
{
    public const string SignInPath = "/account/signin";
    public const string SignOutPath = "/account/signout";

    public static IEndpointRouteBuilder MapSignIn(this IEndpointRouteBuilder app)
    {
        app.MapPost(SignInPath, SignInAsync).AllowAnonymous().ExcludeFromDescription();
        app.MapPost(SignOutPath, (Delegate)SignOutAsync).AllowAnonymous().ExcludeFromDescription();
        return app;
    }

    public static async Task<IResult> SignInAsync(
        HttpContext context, [FromForm] string? key, [FromForm] string? returnUrl, ApiKeys keys, FailedAuthentications failures)
    {
        var back = LocalOrHome(returnUrl);
        var address = context.Connection.RemoteIpAddress;
        if (failures.IsBlocked(address, out var wait))
        {
            return Again($"too many failed sign-ins from this address; try again in {Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds))} s.", back);
        }
        if (string.IsNullOrWhiteSpace(key))
        {
            return Again("paste your API key (it starts with exp_).", back);
        }
        var (found, problem) = await keys.CheckAsync(key.Trim(), context.RequestAborted);
        if (found is null)
        {
            failures.Record(address, out _);
            return Again(problem!, back);
        }
        var identity = ApiKeyAuthentication.Identity(found, AccessControl.CookieScheme);
        identity.AddClaim(new Claim(AccessClaims.Key, key.Trim()));
        // The session slides (Experiments:Auth:SessionLifetime); each request checks that the key is still valid.
        await context.SignInAsync(AccessControl.CookieScheme, new ClaimsPrincipal(identity), new AuthenticationProperties { IsPersistent = true });
        return Results.LocalRedirect(back);
    }

    public static async Task<IResult> SignOutAsync(HttpContext context)
    {
        await context.SignOutAsync(AccessControl.CookieScheme);
        return Results.LocalRedirect("/signin");
    }

    private static IResult Again(string error, string returnUrl) =>
        Results.LocalRedirect($"/signin?error={Uri.EscapeDataString(error)}&returnUrl={Uri.EscapeDataString(returnUrl)}");

    /// <summary>Only a path on this site: "/runs/…", never "//evil.example", "/\\evil.example", "https://…" or control characters.</summary>
    private static string LocalOrHome(string? returnUrl) =>
        returnUrl is { Length: > 0 and <= 2048 } url && url[0] == '/' && (url.Length == 1 || (url[1] != '/' && url[1] != '\\'))
            && !url.Any(char.IsControl) ? url : "/";
}
