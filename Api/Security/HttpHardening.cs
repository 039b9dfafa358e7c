using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace Experiments.Api.Security;

/// <summary>
/// What every request meets first, with or without API keys: forwarded headers believed from configured proxies only,
/// security headers on every answer, only the configured host names served, CORS only for configured origins, and no
/// state change or hub connection from another site's page.
/// </summary>
public static class HttpHardening
{
    /// <summary>
    /// ASP.NET Core's default pipeline begins with its own host filter (a bare 400, before any handler can explain it) and,
    /// when ASPNETCORE_FORWARDEDHEADERS_ENABLED is set, forwarded headers believed from every peer. Both are replaced here.
    /// </summary>
    private static readonly string[] ReplacedStartupFilters =
        ["Microsoft.AspNetCore.HostFilteringStartupFilter", "Microsoft.AspNetCore.ForwardedHeadersStartupFilter"];

    public static IHostApplicationBuilder AddHttpHardening(this IHostApplicationBuilder builder)
    {
        foreach (var filter in builder.Services.Where(service => service.ServiceType == typeof(IStartupFilter)
            && ReplacedStartupFilters.Contains(service.ImplementationType?.FullName)).ToList())
        {
            builder.Services.Remove(filter);
        }
        builder.Services.Configure<KestrelServerOptions>(kestrel => kestrel.AddServerHeader = false);

        builder.Services.AddSingleton(services => AllowedHosts.From(services.GetRequiredService<IConfiguration>()));

        builder.Services.AddOptions<ForwardedHeadersSettings>().Bind(builder.Configuration.GetSection(ForwardedHeadersSettings.Section));
        builder.Services.AddSingleton(services => TrustedProxies.From(services.GetRequiredService<IOptions<ForwardedHeadersSettings>>().Value));
        builder.Services.AddOptions<ForwardedHeadersOptions>().Configure<TrustedProxies>((options, proxies) => proxies.ApplyTo(options));

        builder.Services.AddOptions<CorsSettings>().Bind(builder.Configuration.GetSection(CorsSettings.Section));
        builder.Services.AddSingleton(services => CorsOrigins.From(services.GetRequiredService<IOptions<CorsSettings>>().Value));
        builder.Services.AddCors();
        builder.Services.AddOptions<CorsOptions>().Configure<CorsOrigins>((options, origins) =>
            options.AddPolicy(CorsOrigins.PolicyName, policy => policy
                .WithOrigins([.. origins.Origins])
                .AllowAnyMethod()
                .AllowAnyHeader()
                .WithExposedHeaders("Location", "Content-Disposition", "Retry-After", "WWW-Authenticate")));
        return builder;
    }

    /// <summary>
    /// The first middleware of the pipeline, in this order: forwarded headers (so that everything after sees the client's
    /// address, scheme and host as the proxy vouches for them), security headers (so that the refusals below carry them),
    /// host names (before anything reads the Host), CORS (answering the configured origins' preflights), the Origin check.
    /// </summary>
    public static IApplicationBuilder UseHttpHardening(this IApplicationBuilder app)
    {
        var services = app.ApplicationServices;
        if (services.GetRequiredService<TrustedProxies>().AnyConfigured)
        {
            app.UseForwardedHeaders();
        }
        app.UseSecurityHeaders();
        app.UseMiddleware<AllowedHostsMiddleware>();
        if (services.GetRequiredService<CorsOrigins>().AnyConfigured)
        {
            app.UseWhen(context => context.Request.Path.StartsWithSegments(CorsOrigins.ApiPath), api => api.UseCors(CorsOrigins.PolicyName));
        }
        app.UseMiddleware<OriginCheckMiddleware>();
        return app;
    }
}
