using System.Globalization;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Experiments.Domain.Access;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Experiments.Api.Access;

/// <summary>
/// Authenticates <c>Authorization: Bearer &lt;key&gt;</c>, <c>X-Api-Key</c> and, for the hubs only, the
/// <c>access_token</c> query parameter that browsers' WebSockets need. Without a key, the caller is an open-access admin
/// when <see cref="OpenAccess"/> says so. Challenges are 401 (429 after too many failures) as problem details, or a
/// redirect to the sign-in page for the dashboard's pages.
/// </summary>
public sealed class ApiKeyAuthentication(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    OpenAccess openAccess,
    FailedAuthentications failures)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string HeaderName = "X-Api-Key";
    public const string HubTokenParameter = "access_token";

    private static readonly string[] QueryKeyNames = [HubTokenParameter, "api_key", "apikey", "apiKey", "key"];

    private string? _failure;
    private TimeSpan? _blockedFor;

    /// <summary>Whether the request presents a key (or tries to), so that this scheme, not the dashboard's cookie, decides.</summary>
    public static bool PresentsKey(HttpRequest request) =>
        request.Headers.ContainsKey(HeaderNames.Authorization) || request.Headers.ContainsKey(HeaderName)
        || (IsHubPath(request.Path) && request.Query.ContainsKey(HubTokenParameter));

    public static bool IsHubPath(PathString path) => path.StartsWithSegments("/hubs", StringComparison.OrdinalIgnoreCase);

    /// <summary>The REST API and the hubs answer problem details; every other path is a page of the dashboard.</summary>
    public static bool IsApiPath(PathString path) =>
        path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase) || IsHubPath(path) || path.StartsWithSegments("/health", StringComparison.OrdinalIgnoreCase);

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!IsHubPath(Request.Path) && QueryKeyNames.FirstOrDefault(Request.Query.ContainsKey) is { } inQuery)
        {
            return Failed($"a key in the query string ('{inQuery}') is refused: URLs end up in logs, proxies and browser history. "
                + $"Send it as 'Authorization: Bearer <key>' or '{HeaderName}: <key>'.");
        }
        var (presented, problem) = FindKey(Request);
        if (problem is not null)
        {
            return Failed(problem);
        }
        if (presented is null)
        {
            return await openAccess.AppliesToAsync(Context)
                ? Success(new ClaimsIdentity([new Claim(AccessClaims.OpenAccess, "true"), new Claim(AccessClaims.Role, Role.Admin.ToText())], SchemeName))
                : AuthenticateResult.NoResult();
        }
        var address = Context.Connection.RemoteIpAddress;
        if (failures.IsBlocked(address, out var wait))
        {
            _blockedFor = wait;
            return Failed("too many failed key checks from this address");
        }
        var (key, invalid) = await Context.RequestServices.GetRequiredService<ApiKeys>().CheckAsync(presented, Context.RequestAborted);
        if (key is null)
        {
            failures.Record(address, out _);
            return Failed(invalid!);
        }
        return Success(Identity(key, SchemeName));
    }

    /// <summary>The claims of a caller holding <paramref name="key"/>.</summary>
    public static ClaimsIdentity Identity(ApiKey key, string scheme) => new(
        [
            new Claim(AccessClaims.Name, key.Name),
            new Claim(AccessClaims.Role, key.Role.ToText()),
            new Claim(AccessClaims.KeyId, key.Id.ToString()),
        ],
        scheme, AccessClaims.Name, AccessClaims.Role);

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (_blockedFor is { } wait)
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
            Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            await Problems.WriteAsync(Context, StatusCodes.Status429TooManyRequests, "Too many failed key checks.",
                $"This address presented too many invalid keys (Experiments:Auth:FailedAttemptsPerMinute); try again in {seconds} s.");
            return;
        }
        if (!IsApiPath(Request.Path) && HttpMethods.IsGet(Request.Method) && _failure is null)
        {
            Response.Redirect($"/signin?returnUrl={Uri.EscapeDataString(Request.PathBase + Request.Path + Request.QueryString)}");
            return;
        }
        Response.Headers.WWWAuthenticate = _failure is null
            ? "Bearer realm=\"Experiments\""
            : $"Bearer realm=\"Experiments\", error=\"invalid_token\", error_description=\"{_failure.Replace("\"", "'", StringComparison.Ordinal)}\"";
        await Problems.WriteAsync(Context, StatusCodes.Status401Unauthorized, "A valid API key is required.", _failure is null
            ? await WhyAKeyIsNeededAsync()
            : $"The key was refused: {_failure}");
    }

    private async Task<string> WhyAKeyIsNeededAsync()
    {
        const string Send = "Send one as 'Authorization: Bearer <key>' (or 'X-Api-Key: <key>'). ";
        const string Create = "An admin creates keys with `dotnet run --project Api -- keys create --name NAME --role viewer|editor|admin` or POST /api/keys.";
        if (await openAccess.KeysExistAsync(Context.RequestAborted))
        {
            return "This service requires an API key. " + Send + Create;
        }
        if (openAccess.Required)
        {
            return "Experiments:Auth:Required is true and no key exists yet: create the first one on the service's machine with "
                + "`dotnet run --project Api -- keys create --name NAME --role admin`, then " + Send;
        }
        return "This service has no keys yet, so it answers without one only to callers on its own machine"
            + (openAccess.BehindProxy ? " and not behind a proxy" : "") + ". " + Create + " Then " + Send;
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) => AccessControl.ForbidAsync(Context);

    private AuthenticateResult Failed(string reason)
    {
        _failure = reason;
        return AuthenticateResult.Fail(reason);
    }

    private static AuthenticateResult Success(ClaimsIdentity identity) =>
        AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));

    /// <summary>The key a request presents; or a problem when it presents one in a form that cannot be read.</summary>
    private static (string? Key, string? Problem) FindKey(HttpRequest request)
    {
        if (request.Headers.TryGetValue(HeaderNames.Authorization, out var authorization))
        {
            var value = authorization.ToString().Trim();
            if (authorization.Count != 1 || !value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            {
                return (null, "the Authorization header must be one 'Bearer <key>'.");
            }
            return (value["Bearer ".Length..].Trim(), null);
        }
        if (request.Headers.TryGetValue(HeaderName, out var header))
        {
            return header.Count == 1 ? (header.ToString().Trim(), null) : (null, $"send one {HeaderName} header, not {header.Count}.");
        }
        if (IsHubPath(request.Path) && request.Query.TryGetValue(HubTokenParameter, out var token))
        {
            return token.Count == 1 ? (token.ToString(), null) : (null, $"send one {HubTokenParameter}, not {token.Count}.");
        }
        return (null, null);
    }
}
