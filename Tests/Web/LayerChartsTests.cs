using Bunit;
using Experiments.Domain.Runs;
using Experiments.Web.Components.Pages;
using Experiments.Web.Live;

namespace Experiments.Tests.Web;

public sealed class LayerChartsTests : DashboardContext
{
    [Fact]
    public async Task A_watched_run_shows_its_layers_and_a_pushed_snapshot_extends_them()
    {
        var id = Guid.NewGuid();
        var run = Samples.Run(id, RunStatus.Running, Samples.Epoch(1));
        Runs.Runs[id] = run with { Spec = run.Spec with { Watch = new WatchSpec { Every = 10, Bins = 4 } } };
        Runs.Snapshots[id] = [Snapshot(10, dead: 0.25), Snapshot(20, dead: 0.5)];
        var page = Render<RunDetail>(parameters => parameters.Add(p => p.Id, id));

        Assert.Contains("2 snapshots, one every 10 batches", page.Find("#layers h2").TextContent, StringComparison.Ordinal);
        foreach (var chart in new[] { "chart-weight-norm", "chart-gradient-norm", "chart-update-ratio", "chart-dead", "chart-weight-histogram", "chart-gradient-histogram" })
        {
            Assert.Single(page.FindAll($"#{chart}"));
        }
        Assert.Equal(["layers[0].weight", "layers[0].bias"], page.FindAll("#histogram-parameter option").Select(option => option.TextContent));

        // Pushed in the middle of epoch 2, before it is stored: it is drawn, and kept through a catch-up that reads without it.
        await page.InvokeAsync(() => Events.PushAsync(id, handlers => () => handlers.LayersWatched!(new LayersWatched(id, Snapshot(30, dead: 1)))));
        Time.Advance(RenderThrottle.DefaultInterval);
        page.WaitForAssertion(() => Assert.Contains("3 snapshots", page.Find("#layers h2").TextContent, StringComparison.Ordinal));
        await page.InvokeAsync(Events.ReconnectAsync);
        Assert.Contains("3 snapshots", page.Find("#layers h2").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void A_run_without_watch_has_no_layers_section()
    {
        var id = Guid.NewGuid();
        Runs.Runs[id] = Samples.Run(id, RunStatus.Running, Samples.Epoch(1));

        var page = Render<RunDetail>(parameters => parameters.Add(p => p.Id, id));

        Assert.Empty(page.FindAll("#layers"));
    }

    [Fact]
    public void Pushed_snapshots_extend_the_series_with_nulls_for_tensors_not_seen_before()
    {
        var read = RunLayerSeries.From([Snapshot(10, dead: 0.25)], nextFrom: null);
        var widened = Snapshot(20, dead: 0.5) with { Parameters = [.. Snapshot(20, dead: 0.5).Parameters, Parameter("layers[2].weight", 3)] };

        var series = read.Append(widened).Append(Snapshot(20, dead: 0.9));

        Assert.Equal([10L, 20], series.Step);
        Assert.Equal([0.25, 0.5], series.Activations.Single(layer => layer.Type == "relu").DeadFraction);
        Assert.Equal([null, 3.0], series.Parameters.Single(parameter => parameter.Name == "layers[2].weight").WeightNorm);
        Assert.Equal([[], [1, 1, 0, 1]], series.Parameters.Single(parameter => parameter.Name == "layers[2].weight").Weights.Counts);
    }

    private static LayerSnapshot Snapshot(long step, double dead) => new(step, 1 + (int)(step / 20), (int)(step % 20),
        [Parameter("layers[0].weight", 2), Parameter("layers[0].bias", 1)],
        [new ActivationStatistics("layers[0]", "linear", 0.1, 1, null, null), new ActivationStatistics("layers[1]", "relu", 0.4, 0.6, dead, null)]);

    private static ParameterStatistics Parameter(string name, double norm) =>
        new(name, norm, norm / 10, 1e-3, new Histogram(-1, 1, [1, 1, 0, 1]), new Histogram(-0.1, 0.1, [0, 2, 1, 0]));
}
