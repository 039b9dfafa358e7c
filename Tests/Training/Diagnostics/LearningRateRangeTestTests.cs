using Experiments.Domain.Runs;
using Experiments.Training.Diagnostics;

namespace Experiments.Tests.Training.Diagnostics;

/// <summary>The range test's suggestion, read from synthetic sweeps whose right answer is known.</summary>
public sealed class LearningRateRangeTestTests
{
    private const int Steps = 100;

    /// <summary>
    /// lr from 1e-8 towards 1 in 100 steps; the loss flat at 2.3, falling fastest around 1e-3, lowest near 1e-2, then
    /// exploding: the sweep ends once it passes 5, as the range test stops it.
    /// </summary>
    private static (double[] Rates, double[] Losses) Sweep(Func<int, double, double>? disturb = null)
    {
        var random = new Random(3);
        var rates = Enumerable.Range(0, Steps).Select(step => 1e-8 * Math.Pow(1e8, step / (Steps - 1.0))).ToArray();
        var losses = rates.Select((lr, step) =>
        {
            var x = Math.Log10(lr);
            // A logistic fall of 2 centred on 1e-3, then a rise after 3e-2.
            var loss = 2.3 - 2.0 / (1 + Math.Exp(-(x + 3) * 3)) + (x > -1.5 ? Math.Pow(10, (x + 1.5) * 2) - 1 : 0) + random.NextDouble() * 0.05;
            return disturb?.Invoke(step, loss) ?? loss;
        }).ToList();
        var taken = losses.FindIndex(10, loss => loss > 5) + 1;
        return (rates[..taken], [.. losses.Take(taken)]);
    }

    [Fact]
    public void The_suggestion_is_the_steepest_descent_of_the_smoothed_loss_below_its_minimum()
    {
        var (rates, losses) = Sweep();
        var beta = LearningRateRangeTestResult.SmoothingFor(Steps);

        var suggestion = LearningRateRangeTest.Suggest(rates, LearningRateRangeTest.Smooth(losses, beta), Steps);

        Assert.InRange(rates[suggestion.Step!.Value], 3e-4, 3e-3);
        Assert.True(suggestion.Step < suggestion.Minimum);
        Assert.InRange(rates[suggestion.Minimum!.Value], 3e-3, 3e-2);
        Assert.StartsWith("steepest descent of the smoothed loss", suggestion.Method, StringComparison.Ordinal);
        Assert.Empty(suggestion.Warnings);
    }

    [Fact]
    public void Regression_lightning_1767_early_spikes_do_not_move_the_suggestion()
    {
        // The first steps of a sweep are noisy: a spike up and a plunge down, as a fresh model's first batches can give.
        var (rates, losses) = Sweep((step, loss) => step switch { 1 => 9.0, 2 => 0.2, 4 => 6.0, _ => loss });
        var beta = LearningRateRangeTestResult.SmoothingFor(Steps);

        var suggestion = LearningRateRangeTest.Suggest(rates, LearningRateRangeTest.Smooth(losses, beta), Steps);

        Assert.InRange(rates[suggestion.Step!.Value], 3e-4, 3e-3);
    }

    [Fact]
    public void A_loss_that_never_falls_gets_no_suggestion_and_a_warning()
    {
        var rates = Enumerable.Range(0, 50).Select(step => 1e-6 * Math.Pow(10, step / 10.0)).ToArray();
        var flat = rates.Select((_, step) => 2.3 + (step % 3) * 0.001).ToArray();

        var suggestion = LearningRateRangeTest.Suggest(rates, LearningRateRangeTest.Smooth(flat, 0.8), 50);

        Assert.Null(suggestion.Step);
        Assert.Contains("did not fall", Assert.Single(suggestion.Warnings), StringComparison.Ordinal);
    }

    [Fact]
    public void A_loss_still_falling_at_the_end_warns_that_the_sweep_should_go_higher()
    {
        var rates = Enumerable.Range(0, 40).Select(step => 1e-6 * Math.Pow(10, step / 10.0)).ToArray();
        var falling = rates.Select(lr => 2.3 - 0.3 * (Math.Log10(lr) + 6)).ToArray();

        var suggestion = LearningRateRangeTest.Suggest(rates, LearningRateRangeTest.Smooth(falling, 0.75), 40);

        Assert.NotNull(suggestion.Step);
        Assert.Equal(39, suggestion.Minimum);
        Assert.Contains("still falling", Assert.Single(suggestion.Warnings), StringComparison.Ordinal);
    }

    [Fact]
    public void Smoothing_forward_and_back_keeps_a_step_where_it_is()
    {
        double[] step = [.. Enumerable.Repeat(2.0, 50), .. Enumerable.Repeat(1.0, 50)];

        var smoothed = LearningRateRangeTest.Smooth(step, 0.9);

        // A forward average alone would still be near 2 a few steps after the drop; forward and back is halfway at the drop.
        Assert.InRange(smoothed[49], 1.3, 1.7);
        Assert.InRange(smoothed[50], 1.3, 1.7);
        Assert.Equal(2.0, smoothed[5], 1);
        Assert.Equal(1.0, smoothed[95], 1);
    }

    [Theory]
    [InlineData("0.weight", "layers[0].weight")]
    [InlineData("12.bias", "layers[12].bias")]
    [InlineData("3.layers.1.weight", "layers[3].layers[1].weight")]
    [InlineData("2.layers.0.layers.4.bias", "layers[2].layers[0].layers[4].bias")]
    [InlineData("0.embedding.weight", "layers[0].weight")]
    [InlineData("4.lstm.weight_hh_l0_reverse", "layers[4].weight_hh_l0_reverse")]
    [InlineData("1.gru.bias_ih_l1", "layers[1].bias_ih_l1")]
    public void Parameter_names_are_the_specs_layer_paths(string module, string spec) =>
        Assert.Equal(spec, ParameterNames.ToSpecPath(module));
}
