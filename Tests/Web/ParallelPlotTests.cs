using System.Text.Json;
using Experiments.Domain.Runs;
using Experiments.Domain.Sweeps;
using Experiments.Web.Sweeps;

namespace Experiments.Tests.Web;

/// <summary>A sweep's trials as parallel coordinates: categories as tick indices, logarithmic fields as log10 with round ticks, the metric last.</summary>
public sealed class ParallelPlotTests
{
    [Fact]
    public void A_numeric_choice_is_a_category_axis_in_numeric_order_and_a_log_range_is_plotted_as_log10_with_round_ticks()
    {
        var sweep = SweepSamples.Sweep(SweepStatus.Running,
        [
            SweepSamples.Trial(1, RunStatus.Succeeded, 0.9, lr: 0.1, width: 16),
            SweepSamples.Trial(2, RunStatus.Succeeded, 0.6, lr: 0.001, width: 4),
            SweepSamples.Trial(3, RunStatus.Running, null, lr: 0.3, width: 32, epochsCompleted: 1),
        ]);

        var plot = ParallelPlot.Of(sweep, SweepFields.Of(sweep.Spec));

        Assert.Equal([1, 2], plot.Trials);
        Assert.Equal([0.9, 0.6], plot.Scores);
        Assert.Equal(["optimizer.lr", "layers[0].outFeatures (log)", "validation accuracy"], plot.Axes.Select(axis => axis.Label));
        var lr = plot.Axes[0];
        Assert.Equal([new(0, "0.001"), new(1, "0.01"), new(2, "0.1"), new ParallelTick(3, "0.3")], lr.Ticks);
        Assert.Equal([2.0, 0], lr.Values);
        Assert.Equal(["0.1", "0.001"], lr.Texts);
        Assert.Equal((-0.5, 3.5), (lr.Min, lr.Max));
        Assert.Equal(0.625, lr.Position(2));
        var width = plot.Axes[1];
        Assert.Equal([Math.Log10(16), Math.Log10(4)], width.Values);
        Assert.Equal(["16", "4"], width.Texts);
        Assert.Equal((Math.Log10(4), Math.Log10(32)), (width.Min, width.Max));
        Assert.Equal([new(Math.Log10(5), "5"), new(1, "10"), new ParallelTick(Math.Log10(20), "20")], width.Ticks);
        Assert.Equal(0, width.Position(Math.Log10(4)));
        var metric = plot.Axes[2];
        Assert.Equal([0.9, 0.6], metric.Values);
        Assert.Equal(["90.0 %", "60.0 %"], metric.Texts);
        Assert.Equal(["60.0 %", "70.0 %", "80.0 %", "90.0 %"], metric.Ticks.Select(tick => tick.Text));
        // The best line is Viridis's yellow end, the worst its purple one.
        Assert.Equal(("#fde725", "#440154"), (plot.Color(0), plot.Color(1)));
    }

    [Fact]
    public void A_field_of_a_sub_space_some_trials_did_not_choose_gets_a_tick_for_not_searched()
    {
        var spec = SweepSamples.Spec(SweepGoal.Minimize) with
        {
            Metric = SweepMetric.ValidationLoss,
            Method = SweepMethod.Random,
            Parameters = new Dictionary<string, SweepParameter>
            {
                ["optimizer"] = new()
                {
                    Type = ParameterDistribution.Choice,
                    Options =
                    [
                        new SweepOption { Value = SweepSamples.Json(new { type = "sgd" }), Parameters = new Dictionary<string, SweepParameter> { ["optimizer.momentum"] = new() { Type = ParameterDistribution.Uniform, Min = 0, Max = 0.9 } } },
                        new SweepOption { Value = SweepSamples.Json(new { type = "adam" }) },
                    ],
                },
            },
        };
        TrialView Trial(int number, double loss, object optimizer, double? momentum) => new(number, Guid.NewGuid(), RunStatus.Succeeded, StopReason.EpochsCompleted,
            momentum is { } m
                ? new Dictionary<string, JsonElement> { ["optimizer"] = SweepSamples.Json(optimizer), ["optimizer.momentum"] = SweepSamples.Json(m) }
                : new Dictionary<string, JsonElement> { ["optimizer"] = SweepSamples.Json(optimizer) },
            8, 8, loss, null, null);
        var sweep = SweepSamples.Sweep(SweepStatus.Succeeded, [Trial(1, 0.4, new { type = "sgd" }, 0.5), Trial(2, 0.3, new { type = "adam" }, null), Trial(3, 0.35, new { type = "sgd" }, 0.25)], spec: spec);

        var plot = ParallelPlot.Of(sweep, SweepFields.Of(spec));

        Assert.Equal(["optimizer", "optimizer.momentum", "validation loss"], plot.Axes.Select(axis => axis.Label));
        Assert.Equal(["{\"type\":\"sgd\"}", "{\"type\":\"adam\"}"], plot.Axes[0].Ticks.Select(tick => tick.Text));
        Assert.Equal([0.0, 1, 0], plot.Axes[0].Values);
        var momentum = plot.Axes[1];
        Assert.Equal(["0.25", "0.5", ParallelPlot.NotSearched], momentum.Ticks.Select(tick => tick.Text));
        Assert.Equal([1.0, 2, 0], momentum.Values);
        Assert.Equal(["0.5", ParallelPlot.NotSearched, "0.25"], momentum.Texts);
        Assert.Equal(["0.4", "0.3", "0.35"], plot.Axes[2].Texts);
        // Lower is better: the lowest loss is the best line.
        Assert.Equal([0.0, 1, 0.5], [.. Enumerable.Range(0, 3).Select(line => Math.Round(plot.Goodness(line), 9))]);
    }

    [Theory]
    [InlineData(1e-4, 1e-1, new[] { 1e-4, 1e-3, 1e-2, 1e-1 })]
    [InlineData(4, 32, new[] { 5.0, 10, 20 })]
    [InlineData(0.001, 0.01, new[] { 0.001, 0.002, 0.005, 0.01 })]
    [InlineData(0.02, 0.04, new[] { 0.02, 0.04 })]
    public void Log_ticks_are_one_two_and_five_times_powers_of_ten_or_the_ends(double low, double high, double[] expected) =>
        Assert.Equal(expected, ParallelPlot.LogTicks(low, high));

    [Theory]
    [InlineData(0.6, 0.9, new[] { 0.6, 0.7, 0.8, 0.9 })]
    [InlineData(0, 0.9, new[] { 0, 0.2, 0.4, 0.6, 0.8 })]
    [InlineData(4, 40, new[] { 10.0, 20, 30, 40 })]
    [InlineData(0.331, 0.339, new[] { 0.332, 0.334, 0.336, 0.338 })]
    public void Linear_ticks_are_at_most_six_multiples_of_a_round_step(double low, double high, double[] expected) =>
        Assert.Equal(expected, ParallelPlot.LinearTicks(low, high));
}
