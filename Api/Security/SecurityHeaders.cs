namespace Experiments.Api.Security;

/// <summary>
/// The headers every answer carries, errors and refusals included (they are added just before the answer starts, so
/// the exception handler clearing a response does not lose them).
/// </summary>
public static class SecurityHeaders
{
    /// <summary>
    /// Scripts, styles, images, fonts and connections from this service only, for every page (Tests/Api/Security/ChromiumTests
    /// loads them all and fails on a violation). No script runs from inline code or eval: Blazor Server, plotly.js (served
    /// from _content/Plotly.Blazor), Swagger UI and the Hangfire dashboard need neither, and the circuit's WebSocket goes to
    /// this origin ('self' covers ws: and wss:). Inline styles are allowed: the components set widths and colours in style
    /// attributes, and plotly.js, Swagger UI and the Hangfire dashboard write style attributes and elements. Dataset
    /// previews are data: PNGs.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; "
        + "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>
    /// Referer only to this service itself: no path of this service (a run's id) reaches another site. Not
    /// no-referrer, under which browsers send <c>Origin: null</c> on this service's own POSTs (the Fetch standard's
    /// "serializing a request origin"), which the Origin check would refuse.
    /// </summary>
    public const string ReferrerPolicy = "same-origin";

    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        context.Response.OnStarting(() =>
        {
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = ReferrerPolicy;
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            return Task.CompletedTask;
        });
        return next(context);
    });
}
