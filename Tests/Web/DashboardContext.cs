using Bunit;
using Experiments.Domain.Datasets;
using Experiments.Domain.Models;
using Experiments.Domain.Runs;
using Experiments.Domain.Sweeps;
using Experiments.Domain.Workers;
using Experiments.Web.Live;
using Experiments.Web.Services;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Experiments.Tests.Web;

/// <summary>A bUnit context with the dashboard's services and its REST API replaced by in-memory fakes; plotly's script calls are accepted.</summary>
public abstract class DashboardContext : BunitContext
{
    protected DashboardContext()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddSingleton<IRunQueries>(Runs);
        Services.AddSingleton<IDatasetQueries>(Datasets);
        Services.AddSingleton<IModelQueries>(Models);
        Services.AddSingleton<IWorkerQueries>(Workers);
        Services.AddSingleton<ISweepQueries>(Sweeps);
        Services.AddSingleton<IRunEvents>(Events);
        Services.AddSingleton<TimeProvider>(Time);
        Services.AddSingleton<Reads>();
        Services.AddSingleton(new ExperimentsClient(new HttpClient(Api) { BaseAddress = new Uri("http://127.0.0.1:9/") }));
        // As in the browser after prerendering: the render that subscribes to live events.
        SetRendererInfo(new Microsoft.AspNetCore.Components.RendererInfo("Server", isInteractive: true));
    }

    protected FakeRunQueries Runs { get; } = new();

    protected FakeDatasetQueries Datasets { get; } = new();

    protected FakeModelQueries Models { get; } = new();

    protected FakeWorkerQueries Workers { get; } = new();

    protected FakeSweepQueries Sweeps { get; } = new();

    protected FakeRunEvents Events { get; } = new();

    protected FakeApi Api { get; } = new();

    /// <summary>The components' clock: it moves only when a test advances it.</summary>
    protected FakeTimeProvider Time { get; } = new(DateTimeOffset.UtcNow);

    /// <summary>
    /// Moves the clock and waits for what that set off. The timers that come due queue their continuations on the
    /// renderer's dispatcher before <see cref="FakeTimeProvider.Advance"/> returns; the empty work queued after them ends
    /// once they ran, reads of the in-memory fakes included (those complete at once).
    /// </summary>
    protected async Task AdvanceAsync(TimeSpan by)
    {
        Time.Advance(by);
        await Renderer.Dispatcher.InvokeAsync(() => { });
    }
}
