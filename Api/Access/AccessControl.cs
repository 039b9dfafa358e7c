using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using Experiments.Domain.Access;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace Experiments.Api.Access;

/// <summary>
/// Who may call what (docs/decisions/011): API keys with roles, the dashboard's sign-in cookie, the role policies every
/// endpoint declares, per-key limits on changes and the refusal to start unprotected on a network.
/// </summary>
public static class AccessControl
{
    /// <summary>Picks the API key scheme for a request that presents a key, else the dashboard's cookie when it has one.</summary>
    public const string Scheme = "Experiments";
    public const string CookieScheme = CookieAuthenticationDefaults.AuthenticationScheme;
    public const string CookieName = "experiments_session";

    public static IHostApplicationBuilder AddAccessControl(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<AuthOptions>().Bind(builder.Configuration.GetSection(AuthOptions.Section));
        builder.Services.AddSingleton<OpenAccess>();
        builder.Services.AddSingleton<FailedAuthentications>();
        builder.Services.AddScoped<ApiKeys>();
        var settings = builder.Configuration.GetSection(AuthOptions.Section).Get<AuthOptions>() ?? new AuthOptions();
        builder.Services.AddAuthentication(Scheme)
            .AddPolicyScheme(Scheme, "API key or dashboard session", policy => policy.ForwardDefaultSelector = context =>
                !ApiKeyAuthentication.PresentsKey(context.Request) && context.Request.Cookies.ContainsKey(CookieName) ? CookieScheme : ApiKeyAuthentication.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthentication>(ApiKeyAuthentication.SchemeName, null)
            .AddCookie(CookieScheme, cookie =>
            {
                cookie.Cookie.Name = CookieName;
                cookie.Cookie.HttpOnly = true;
                cookie.Cookie.SameSite = SameSiteMode.Strict;
                cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                cookie.ExpireTimeSpan = settings.SessionLifetime;
                cookie.SlidingExpiration = true;
                cookie.LoginPath = "/signin";
                cookie.ReturnUrlParameter = "returnUrl";
                cookie.Events.OnValidatePrincipal = RejectRevokedKeysAsync;
                cookie.Events.OnRedirectToLogin = context => ChallengeAsync(context.HttpContext, context.RedirectUri);
                cookie.Events.OnRedirectToAccessDenied = context => ForbidAsync(context.HttpContext);
            });
        builder.Services.Configure<HubOptions>(hub => hub.AddFilter<RevokedKeyHubFilter>());
        builder.Services.AddSingleton<IAuthorizationHandler, RoleRequirementHandler>();
        builder.Services.AddSingleton<IAuthorizationMiddlewareResultHandler, AccessDeniedAnswers>();
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(Policies.Viewer, policy => policy.AddRequirements(new RoleRequirement(Role.Viewer)))
            .AddPolicy(Policies.Editor, policy => policy.AddRequirements(new RoleRequirement(Role.Editor)))
            .AddPolicy(Policies.Admin, policy => policy.AddRequirements(new RoleRequirement(Role.Admin)))
            // An endpoint that declares nothing still needs a reader; Tests/Api/Access checks that every one declares a policy.
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().AddRequirements(new RoleRequirement(Role.Viewer)).Build());
        builder.Services.AddRateLimiter(limiter =>
        {
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
                HttpExtensions.ChangesState(context.Request.Method) && context.User.FindFirstValue(AccessClaims.Name) is { } name
                    ? RateLimitPartition.GetFixedWindowLimiter(name, _ => new FixedWindowRateLimiterOptions
                    {
                        PermitLimit = Math.Max(1, settings.MutationsPerMinute),
                        Window = TimeSpan.FromMinutes(1),
                        QueueLimit = 0,
                    })
                    : RateLimitPartition.GetNoLimiter(""));
            limiter.OnRejected = async (rejected, _) =>
            {
                var seconds = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : 60;
                rejected.HttpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                await Problems.WriteAsync(rejected.HttpContext, StatusCodes.Status429TooManyRequests, "Too many changes.",
                    $"{Caller.Of(rejected.HttpContext.User).Describe()} sent more than {settings.MutationsPerMinute} changes in a minute "
                    + $"(Experiments:Auth:MutationsPerMinute); try again in {seconds} s.");
            };
        });
        return builder;
    }

    public static IApplicationBuilder UseAccessControl(this IApplicationBuilder app) =>
        app.UseAuthentication().UseAuthorization().UseRateLimiter();

    /// <summary>
    /// Whether the service may go on now that it listens: it may not without keys on any address other than loopback.
    /// Else the reason is logged as critical and false returned, and the caller stops the service with a non-zero exit code.
    /// </summary>
    public static async Task<bool> MayServeAsync(this WebApplication app)
    {
        var open = app.Services.GetRequiredService<OpenAccess>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(AccessControl));
        if (await open.KeysExistAsync(CancellationToken.None))
        {
            logger.LogInformation("API keys are required on every request (manage them with `dotnet run --project Api -- keys list|create|revoke`).");
            return true;
        }
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var exposed = addresses.Where(address => !IsLoopback(address)).ToList();
        if (exposed.Count > 0 || open.BehindProxy)
        {
            logger.LogCritical("Refusing to start: no API key exists and the service would be open to the network ({Where}). Create the first "
                + "admin key with `dotnet run --project Api -- keys create --name NAME --role admin`, or listen on loopback only "
                + "(e.g. --urls http://localhost:5000).", exposed.Count > 0 ? string.Join(", ", exposed) : "behind a proxy: Experiments:ForwardedHeaders is set");
            return false;
        }
        if (open.Required)
        {
            logger.LogWarning("Experiments:Auth:Required is true and no API key exists: every request is refused until one is created with "
                + "`dotnet run --project Api -- keys create --name NAME --role admin`.");
        }
        else
        {
            logger.LogWarning("No API keys exist: the service answers callers on this machine without a key, as admins, and no one else. "
                + "Create a key with `dotnet run --project Api -- keys create --name NAME --role admin` to require keys everywhere.");
        }
        return true;
    }

    /// <summary>A listening address reachable only from this machine: a loopback host or a Unix socket.</summary>
    public static bool IsLoopback(string address)
    {
        var binding = BindingAddress.Parse(address);
        if (binding.IsUnixPipe)
        {
            return true;
        }
        var host = binding.Host.Trim('[', ']');
        return string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
            || (System.Net.IPAddress.TryParse(host, out var ip) && HttpExtensions.IsLoopback(ip));
    }

    /// <summary>A dashboard session ends as soon as its key is revoked or expires.</summary>
    private static async Task RejectRevokedKeysAsync(CookieValidatePrincipalContext context)
    {
        var keys = context.HttpContext.RequestServices.GetRequiredService<ApiKeys>();
        if (!Guid.TryParse(context.Principal?.FindFirstValue(AccessClaims.KeyId), out var id)
            || !await keys.IsValidAsync(id, context.HttpContext.RequestAborted))
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(CookieScheme);
        }
    }

    private static Task ChallengeAsync(HttpContext context, string redirectUri)
    {
        if (ApiKeyAuthentication.IsApiPath(context.Request.Path))
        {
            context.Response.Headers.WWWAuthenticate = "Bearer realm=\"Experiments\"";
            return Problems.WriteAsync(context, StatusCodes.Status401Unauthorized, "A valid API key is required.",
                "The dashboard session has ended (signed out, or its key was revoked or expired); sign in again at /signin, or send 'Authorization: Bearer <key>'.");
        }
        context.Response.Redirect(redirectUri);
        return Task.CompletedTask;
    }

    /// <summary>403 for a caller whose role is not enough, when the needed role is not known (see <see cref="AccessDeniedAnswers"/>).</summary>
    internal static Task ForbidAsync(HttpContext context) =>
        Problems.WriteAsync(context, StatusCodes.Status403Forbidden, "Not allowed.", $"{Caller.Of(context.User).Describe()} may not do this.");
}

/// <summary>At least <see cref="Role"/>.</summary>
public sealed record RoleRequirement(Role Role) : IAuthorizationRequirement;

internal sealed class RoleRequirementHandler : AuthorizationHandler<RoleRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, RoleRequirement requirement)
    {
        if (context.User.Identity?.IsAuthenticated == true && Caller.Of(context.User).Has(requirement.Role))
        {
            context.Succeed(requirement);
        }
        return Task.CompletedTask;
    }
}

/// <summary>A 403 says which role the endpoint needs and which the caller has; everything else as ASP.NET Core does it.</summary>
internal sealed class AccessDeniedAnswers : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (!authorizeResult.Forbidden)
        {
            return _default.HandleAsync(next, context, policy, authorizeResult);
        }
        var needed = policy.Requirements.OfType<RoleRequirement>().Select(requirement => requirement.Role).DefaultIfEmpty(Role.Viewer).Max();
        return Problems.WriteAsync(context, StatusCodes.Status403Forbidden, "Not allowed.",
            $"This needs the {needed.ToText()} role; {Caller.Of(context.User).Describe()} does not have it. An admin can create a key with that role "
            + "(keys create --role " + needed.ToText() + ").");
    }
}
