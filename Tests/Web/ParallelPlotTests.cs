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
        Assert.Equal(["0.001", "0.01", "0.1", "0.3"], lr.TickTexts);
        Assert.Equal([0.0, 1, 2, 3], lr.TickValues);
        Assert.Equal([2.0, 0], lr.Values);
        Assert.Equal((-0.5, 3.5), (lr.Min, lr.Max));
        var width = plot.Axes[1];
        Assert.Equal([Math.Log10(16), Math.Log10(4)], width.Values);
        Assert.Equal((Math.Log10(4), Math.Log10(32)), (width.Min, width.Max));
        Assert.Equal(["5", "10", "20"], width.TickTexts);
        Assert.Equal([Math.Log10(5), 1, Math.Log10(20)], width.TickValues);
        var metric = plot.Axes[2];
        Assert.Equal([0.9, 0.6], metric.Values);
        Assert.Equal(".1%", metric.TickFormat);
        Assert.False(plot.LowerIsBetter);
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
        Assert.Equal(["{\"type\":\"sgd\"}", "{\"type\":\"adam\"}"], plot.Axes[0].TickTexts);
        Assert.Equal([0.0, 1, 0], plot.Axes[0].Values);
        var momentum = plot.Axes[1];
        Assert.Equal(["0.25", "0.5", ParallelPlot.NotSearched], momentum.TickTexts);
        Assert.Equal([1.0, 2, 0], momentum.Values);
        Assert.Null(plot.Axes[2].TickFormat);
        Assert.True(plot.LowerIsBetter);
    }

    [Theory]
    [InlineData(1e-4, 1e-1, new[] { 1e-4, 1e-3, 1e-2, 1e-1 })]
    [InlineData(4, 32, new[] { 5.0, 10, 20 })]
    [InlineData(0.001, 0.01, new[] { 0.001, 0.002, 0.005, 0.01 })]
    [InlineData(0.02, 0.04, new[] { 0.02, 0.04 })]
    public void Log_ticks_are_one_two_and_five_times_powers_of_ten_or_the_ends(double low, double high, double[] expected) =>
        Assert.Equal(expected, ParallelPlot.LogTicks(low, high));
}
