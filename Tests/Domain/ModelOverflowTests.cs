using System.Text.Json;
using Experiments.Domain.Models;
using Experiments.Domain.Validation;

namespace Experiments.Tests.Domain;

/// <summary>Shapes, parameter counts and FLOPs are counted in checked arithmetic: a layer too large to count is refused by its path, never wrapped around.</summary>
public sealed class ModelOverflowTests
{
    [Theory]
    // Two layers of 2147483647 features: the second's FLOPs push the model's total past 2^63.
    [InlineData("""[{"type": "linear", "outFeatures": 2147483647}, {"type": "linear", "outFeatures": 2147483647}]""", new[] { 4 }, "layers[1]", "(linear) is too large")]
    // Padding 2147483647 on both sides wrapped round to an output of [8,24,24].
    [InlineData("""[{"type": "conv2d", "outChannels": 8, "kernelSize": 5, "padding": 2147483647}]""", new[] { 1, 28, 28 }, "layers[0]", "(conv2d) is too large")]
    // 2 × 1073741825 features wrapped round to a width of -2147483646.
    [InlineData("""[{"type": "lstm", "hiddenSize": 1073741825, "bidirectional": true}]""", new[] { 10, 4 }, "layers[0]", "(lstm) is too large")]
    [InlineData("""[{"type": "adaptiveAvgPool2d", "outputSize": 2147483647}, {"type": "flatten", "startDim": 2}]""", new[] { 3, 8, 8 }, "layers[0]", "(adaptiveAvgPool2d) is too large")]
    [InlineData("""[{"type": "residual", "layers": [{"type": "linear", "outFeatures": 2147483647}, {"type": "linear", "outFeatures": 2147483647}, {"type": "linear", "outFeatures": 4}]}]""", new[] { 4 }, "layers[0].layers[1]", "(linear) is too large")]
    public void A_layer_too_large_to_count_is_refused_by_its_path(string stack, int[] inputShape, string field, string expected)
    {
        var errors = new ValidationErrors();
        var layers = ModelValidator.Resolve(JsonSerializer.Deserialize<List<LayerSpec?>>(stack), errors);
        Assert.True(layers is not null, errors.ToString());

        Assert.Null(ModelValidator.InferShapes(layers, inputShape, errors));

        var (key, messages) = Assert.Single(errors.ToDictionary());
        Assert.Equal(field, key);
        Assert.Contains(expected, Assert.Single(messages), StringComparison.Ordinal);
    }

    [Fact]
    public void A_layer_as_large_as_can_be_counted_keeps_its_shape_and_counts()
    {
        var summary = Summary("""[{"type": "linear", "outFeatures": 2147483647}]""", [4]);

        Assert.Equal([int.MaxValue], summary.OutputShape);
        Assert.Equal(5L * int.MaxValue, summary.TotalParameters);
        Assert.Equal(8L * int.MaxValue, summary.ForwardFlops);
    }

    [Fact]
    public void An_input_shape_too_large_to_count_is_refused()
    {
        var errors = new ValidationErrors();
        var layers = ModelValidator.Resolve(JsonSerializer.Deserialize<List<LayerSpec?>>("""[{"type": "relu"}]"""), errors)!;

        Assert.Null(ModelValidator.InferShapes(layers, [int.MaxValue, int.MaxValue, int.MaxValue], errors));
        Assert.Contains("inputShape", errors.ToDictionary().Keys);
    }

    [Fact]
    public void An_estimate_too_large_to_count_is_refused_under_the_batch_size()
    {
        var summary = Summary("""[{"type": "linear", "outFeatures": 2147483647}, {"type": "linear", "outFeatures": 2000000000}]""", [4]);
        var errors = new ValidationErrors();

        Assert.Null(ModelValidator.Estimate(summary, 1_000_000, errors));
        Assert.Contains("at batch size 1000000", Assert.Single(errors.ToDictionary()["batchSize"]), StringComparison.Ordinal);
        Assert.NotNull(ModelValidator.Estimate(Summary("""[{"type": "linear", "outFeatures": 3}]""", [4]), 1_000_000, errors));
    }

    [Fact]
    public void A_model_over_the_parameter_limit_is_refused_with_its_count_the_limit_and_the_setting()
    {
        var summary = Summary("""[{"type": "linear", "outFeatures": 100}]""", [4]);
        var errors = new ValidationErrors();

        Assert.True(ModelValidator.CheckParameters(summary, new ModelLimits(500, long.MaxValue), errors));
        Assert.False(ModelValidator.CheckParameters(summary, new ModelLimits(499, long.MaxValue) { MaxParametersSetting = "Experiments:MaxModelParameters" }, errors));
        Assert.Equal("has 500 parameters, more than the limit of 499 (setting Experiments:MaxModelParameters); use fewer or smaller layers.",
            Assert.Single(errors.ToDictionary()["layers"]));
    }

    private static ModelSummary Summary(string stack, int[] inputShape)
    {
        var errors = new ValidationErrors();
        var layers = ModelValidator.Resolve(JsonSerializer.Deserialize<List<LayerSpec?>>(stack), errors);
        var summary = layers is null ? null : ModelValidator.InferShapes(layers, inputShape, errors);
        Assert.True(summary is not null, errors.ToString());
        return summary;
    }
}
