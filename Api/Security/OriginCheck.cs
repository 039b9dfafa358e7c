using Experiments.Api.Runs;

namespace Experiments.Api.Security;

/// <summary>
/// Refuses, with 403, what a page of another site makes a browser send here: a request that changes something (any
/// method but GET, HEAD, OPTIONS and TRACE), and any request to the SignalR hubs (the negotiate POST and the WebSocket
/// upgrade, which browsers let any page open), whose <c>Origin</c> is neither this service's own origin
/// (scheme://host[:port] of the request) nor one of <see cref="CorsOrigins"/>; and such a request marked
/// <c>Sec-Fetch-Site: cross-site</c>. A request without these headers (curl, a script, the dashboard's own calls) is
/// not a browser's and passes.
/// </summary>
internal sealed class OriginCheckMiddleware(RequestDelegate next, CorsOrigins cors)
{
    /// <summary>The hubs: the runs hub and the Blazor dashboard's circuit.</summary>
    private static readonly PathString[] Hubs = [RunsHub.Path, "/_blazor"];

    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        var checkedHere = HttpExtensions.ChangesState(request.Method) || Hubs.Any(hub => request.Path.StartsWithSegments(hub));
        if (!checkedHere)
        {
            return next(context);
        }
        var origin = request.Headers.Origin.ToString();
        if (origin.Length > 0 && cors.Allows(origin))
        {
            return next(context);
        }
        var own = CorsOrigins.Normalize($"{request.Scheme}://{request.Host.ToUriComponent()}");
        var claimed = CorsOrigins.Normalize(origin);
        if (origin.Length > 0 && (claimed is null || claimed != own))
        {
            return RefuseAsync(context, "Origin",
                $"'{origin}' is not this service's origin ({own}): a page of another site may not send this request. If that page is this "
                + $"service seen through a reverse proxy, list the proxy in {ForwardedHeadersSettings.Section}:KnownProxies so that its "
                + $"X-Forwarded-Proto and X-Forwarded-Host are believed; if it is another site that may call the API, add its origin to "
                + $"{CorsSettings.Section}:AllowedOrigins.");
        }
        if (string.Equals(request.Headers["Sec-Fetch-Site"], "cross-site", StringComparison.OrdinalIgnoreCase))
        {
            return RefuseAsync(context, "Sec-Fetch-Site",
                $"is 'cross-site': a page of another site may not send this request. If that site may call the API, add its origin to {CorsSettings.Section}:AllowedOrigins.");
        }
        return next(context);
    }

    private static Task RefuseAsync(HttpContext context, string header, string message) =>
        Problems.WriteAsync(context, StatusCodes.Status403Forbidden, "Refused: this request comes from another site's page.", message, header);
}
