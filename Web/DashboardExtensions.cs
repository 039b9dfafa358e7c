using Experiments.Domain;
using Experiments.Domain.Access;
using Experiments.Web.Components;
using Experiments.Web.Live;
using Experiments.Web.Services;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Experiments.Web;

public static class DashboardExtensions
{
    /// <summary>
    /// The dashboard's components and what they use besides the query services the API registers: a client of
    /// this service's own REST API for writes, and a client of its runs hub for live events (docs/decisions/007).
    /// </summary>
    public static IHostApplicationBuilder AddDashboard(this IHostApplicationBuilder builder)
    {
        // A page left while it is being drawn ends its circuit with JavaScript calls that the departed page never answers;
        // calls made without a cancellation token of their own give up after this instead of the default minute.
        builder.Services.AddRazorComponents().AddInteractiveServerComponents(circuit => circuit.JSInteropDefaultCallTimeout = TimeSpan.FromSeconds(10));
        builder.Services.AddSingleton<Reads>();
        builder.Services.AddSingleton<SelfAddress>();
        builder.Services.AddHttpClient<ExperimentsClient>((services, client) =>
        {
            client.BaseAddress = services.GetRequiredService<SelfAddress>().Uri;
            // Uploads of large datasets take as long as they take; the page cancels them when the user leaves.
            client.Timeout = Timeout.InfiniteTimeSpan;
        });
        builder.Services.AddScoped<IRunEvents, RunsHubClient>();
        builder.Services.AddScoped<DashboardCaller>();
        builder.Services.AddCascadingAuthenticationState();
        return builder;
    }

    /// <summary>The dashboard at <c>/</c> with its static assets (Blazor's script, styles, plotly.js).</summary>
    public static IEndpointRouteBuilder MapDashboard(this IEndpointRouteBuilder app)
    {
        // The sign-in page needs the styles and scripts before anyone has signed in; the pages need a reader (the sign-in page
        // itself allows anyone, by its [AllowAnonymous]).
        app.MapStaticAssets().AllowAnonymous();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode().RequireAuthorization(Policies.Viewer);
        return app;
    }
}
