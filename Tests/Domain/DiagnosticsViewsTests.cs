using System.Text.Json;
using Experiments.Domain.Losses;
using Experiments.Domain.Runs;
using Experiments.Domain.Schedulers;

namespace Experiments.Tests.Domain;

public sealed class DiagnosticsViewsTests
{
    [Theory]
    [InlineData("crossEntropy")]
    [InlineData("nll")]
    public void A_class_index_loss_expects_ln_c_whatever_the_balance_and_reports_the_class_entropy_beside_it(string loss)
    {
        var balanced = InitialLoss.Of(2.31, new LossSpec(loss), [10, 10, 10, 10, 10, 10, 10, 10, 10, 10]);
        var skewed = InitialLoss.Of(0.7, new LossSpec(loss), [95, 5]);

        Assert.Equal(Math.Log(10), balanced.Expected!.Value, 12);
        Assert.Equal(Math.Log(10), balanced.LabelEntropy!.Value, 12);
        Assert.Equal(2.31 / Math.Log(10) - 1, balanced.Deviation!.Value, 12);
        Assert.Equal(Math.Log(2), skewed.Expected!.Value, 12);
        Assert.Equal(-(0.95 * Math.Log(0.95) + 0.05 * Math.Log(0.05)), skewed.LabelEntropy!.Value, 12);
    }

    [Fact]
    public void Only_losses_with_a_well_defined_value_at_initialisation_have_an_expectation()
    {
        Assert.Equal(Math.Log(2), InitialLoss.Of(0.69, new LossSpec("bceWithLogits"), [5, 5]).Expected!.Value, 12);
        var weighted = new LossSpec("bceWithLogits", new Dictionary<string, JsonElement> { ["posWeight"] = JsonSerializer.SerializeToElement(new[] { 3.0 }) });
        Assert.Null(InitialLoss.Of(0.9, weighted, [5, 5]).Expected);
        var regression = InitialLoss.Of(4.2, new LossSpec("mse"), []);
        Assert.Equal((null, null, null), (regression.Expected, regression.LabelEntropy, regression.Deviation));
    }

    [Fact]
    public void A_first_loss_far_from_ln_c_is_a_warning_that_says_what_to_check()
    {
        var far = InitialLoss.Of(9.5, new LossSpec("crossEntropy"), [10, 10, 10]);
        var near = InitialLoss.Of(1.2, new LossSpec("crossEntropy"), [10, 10, 10]);
        var data = new DataChecks([], [], new ConstantFeatures(0, 4, []));

        var warning = Assert.Single(PreflightWarnings.For(far, [], data, null, ["a", "b", "c"]));
        Assert.StartsWith("The first batch's loss is 9.5, 765 % above the 1.099 expected at initialisation (ln 3:", warning, StringComparison.Ordinal);
        Assert.Contains("end the model with a linear layer", warning, StringComparison.Ordinal);
        Assert.Empty(PreflightWarnings.For(near, [], data, null, ["a", "b", "c"]));
    }

    [Fact]
    public void Every_parameter_without_gradient_is_named_in_one_warning_and_missing_classes_in_another()
    {
        ParameterGradient[] gradients =
        [
            new("layers[0].weight", [3, 4], 0, GradientState.Zero),
            new("layers[0].bias", [3], 0, GradientState.None),
            new("layers[2].weight", [2, 3], 0.5, GradientState.Flowing),
            new("layers[2].bias", [2], null, GradientState.NonFinite),
        ];
        var data = new DataChecks([new SplitLabels("train", 10, [10, 0], null, null, null), new SplitLabels("test", 4, [2, 2], 1, null, null)], [],
            new ConstantFeatures(0, 4, []));

        var warnings = PreflightWarnings.For(InitialLoss.Of(0.69, new LossSpec("crossEntropy"), [10, 0]), gradients, data, null, ["cat", "dog"]);

        Assert.Equal(3, warnings.Count);
        Assert.StartsWith("layers[0].weight and layers[0].bias received no gradient on the first batch", warnings[0], StringComparison.Ordinal);
        Assert.StartsWith("layers[2].bias received a NaN or infinite gradient", warnings[1], StringComparison.Ordinal);
        Assert.StartsWith("The train split has no samples of class 'dog': the model cannot learn to predict them", warnings[2], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(10, 1, null, 10)]
    [InlineData(10, 3, null, 4)]
    [InlineData(9, 3, null, 3)]
    [InlineData(1, 5, null, 1)]
    [InlineData(7, 3, "reduceLROnPlateau", 7)]
    public void The_evaluations_counted_for_the_eta_are_those_the_trainer_makes(int epochs, int every, string? scheduler, int expected)
    {
        var spec = scheduler is null ? null : new SchedulerSpec(scheduler);

        var evaluated = Enumerable.Range(1, epochs).Count(epoch => EvaluationSchedule.Evaluates(epoch, epochs, every, spec));

        Assert.Equal(expected, evaluated);
        Assert.Equal(expected, EvaluationSchedule.Count(epochs, every, spec));
    }
}
