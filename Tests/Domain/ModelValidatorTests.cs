using System.Text.Json;
using Experiments.Domain.Models;
using Experiments.Domain.Validation;

namespace Experiments.Tests.Domain;

public sealed class ModelValidatorTests
{
    [Fact]
    public void Shapes_and_parameter_counts_follow_the_stack()
    {
        var errors = new ValidationErrors();
        var layers = ModelValidator.Resolve(
        [
            Layer("flatten"),
            Layer("linear", ("outFeatures", 32)),
            Layer("relu"),
            Layer("dropout", ("p", 0.1)),
            Layer("linear", ("outFeatures", 10), ("bias", false)),
        ], errors)!;

        var summary = ModelValidator.InferShapes(layers, [1, 28, 28], errors)!;

        Assert.True(errors.IsEmpty, errors.ToString());
        Assert.Equal([[784], [32], [32], [32], [10]], summary.Layers.Select(layer => layer.OutputShape));
        Assert.Equal([0L, 784 * 32 + 32, 0, 0, 32 * 10], summary.Layers.Select(layer => layer.Parameters));
        Assert.Equal(784 * 32 + 32 + 320, summary.TotalParameters);
    }

    [Fact]
    public void Flatten_can_merge_a_range_of_dimensions()
    {
        var errors = new ValidationErrors();
        var layers = ModelValidator.Resolve([Layer("flatten", ("startDim", 2), ("endDim", 3))], errors)!;

        Assert.Equal([3, 20], ModelValidator.InferShapes(layers, [3, 4, 5], errors)!.OutputShape);
    }

    [Fact]
    public void A_flatten_beyond_the_input_rank_points_at_the_layer()
    {
        var errors = new ValidationErrors();
        var layers = ModelValidator.Resolve([Layer("linear", ("outFeatures", 4)), Layer("flatten", ("startDim", 3))], errors)!;

        Assert.Null(ModelValidator.InferShapes(layers, [8], errors));
        Assert.Contains("(flatten) cannot flatten dimensions 3", errors.ToDictionary()["layers[1]"][0], StringComparison.Ordinal);
    }

    [Fact]
    public void A_convolution_on_flat_features_says_what_it_needs_what_it_receives_and_the_reshape_that_fixes_it()
    {
        var problem = Problem("""[{"type": "flatten"}, {"type": "relu"}, {"type": "dropout"}, {"type": "conv2d", "outChannels": 8, "kernelSize": 3}]""", [1, 28, 28]);

        Assert.Equal(("layers[3]", "(conv2d) needs input [C,H,W]; it receives [784] — add a reshape to [1,28,28] before it."), problem);
    }

    [Theory]
    [InlineData("""[{"type": "conv2d", "outChannels": 4, "kernelSize": 3}]""", new[] { 3072 }, "layers[0]", "add a reshape to [3,32,32] before it.")]
    [InlineData("""[{"type": "conv1d", "outChannels": 4, "kernelSize": 3}]""", new[] { 50 }, "layers[0]", "(conv1d) needs input [C,L]; it receives [50] — add a reshape to [1,50] before it.")]
    [InlineData("""[{"type": "conv2d", "outChannels": 4, "kernelSize": 7}]""", new[] { 1, 5, 5 }, "layers[0]", "has a window of 7 (kernelSize 7, dilation 1) that does not fit its input's height 5")]
    [InlineData("""[{"type": "conv2d", "outChannels": 4, "kernelSize": 3, "groups": 2}]""", new[] { 3, 8, 8 }, "layers[0]", "groups 2 must divide both its input channels (3) and outChannels (4).")]
    [InlineData("""[{"type": "maxPool2d", "kernelSize": 2}, {"type": "maxPool2d", "kernelSize": 2}, {"type": "maxPool2d", "kernelSize": 2}]""", new[] { 1, 4, 4 }, "layers[2]", "does not fit its input's height 1")]
    [InlineData("""[{"type": "reshape", "shape": [1, 28, 28]}]""", new[] { 100 }, "layers[0]", "(reshape) to [1,28,28] needs 784 elements per sample; it receives [100] (100 elements).")]
    [InlineData("""[{"type": "lstm", "hiddenSize": 8}]""", new[] { 20 }, "layers[0]", "add a reshape to [20,1] (20 steps of one feature) before it, or start the model with an embedding.")]
    [InlineData("""[{"type": "linear", "outFeatures": 4}, {"type": "embedding", "numEmbeddings": 10, "embeddingDim": 3}]""", new[] { 5 }, "layers[1]", "must be the model's first layer")]
    [InlineData("""[{"type": "softmax", "dim": 0}]""", new[] { 5 }, "layers[0]", "dim 0 is the batch")]
    [InlineData("""[{"type": "layerNorm", "normalizedShape": [8]}]""", new[] { 4, 6 }, "layers[0]", "normalizes over the last dimensions [8], but it receives [4,6]")]
    [InlineData("""[{"type": "batchNorm2d"}]""", new[] { 16 }, "layers[0]", "use batchNorm1d for [C] or [C,L].")]
    [InlineData("""[{"type": "residual", "layers": [{"type": "conv2d", "outChannels": 8, "kernelSize": 3, "padding": 1}]}]""", new[] { 4, 6, 6 }, "layers[0]", "(residual) adds its input [4,6,6] to the output of its layers, which is [8,6,6]; the layers must keep the shape [4,6,6] — give the last of them 4 output channels.")]
    [InlineData("""[{"type": "residual", "layers": [{"type": "linear", "outFeatures": 4}, {"type": "conv1d", "outChannels": 2, "kernelSize": 1}]}]""", new[] { 4 }, "layers[0].layers[1]", "(conv1d) needs input [C,L]")]
    public void Shape_problems_name_the_layer_and_the_fix(string stack, int[] inputShape, string field, string expected)
    {
        var (path, message) = Problem(stack, inputShape);

        Assert.Equal(field, path);
        Assert.Contains(expected, message, StringComparison.Ordinal);
    }

    [Fact]
    public void Problems_inside_a_residual_block_carry_its_path()
    {
        var errors = new ValidationErrors();

        Assert.Null(ModelValidator.Resolve(JsonSerializer.Deserialize<List<LayerSpec?>>("""
            [{"type": "linear", "outFeatures": 4}, {"type": "residual", "layers": [{"type": "linear", "outFeatures": 4, "units": 2}, {"type": "conv9d"}]}]
            """), errors));
        var found = errors.ToDictionary();
        Assert.Contains("linear has no 'units'", found["layers[1].layers[0].units"][0], StringComparison.Ordinal);
        Assert.Contains("'conv9d' is not a known layer type", found["layers[1].layers[1].type"][0], StringComparison.Ordinal);
    }

    [Fact]
    public void A_residual_block_reports_its_layers_and_their_sums()
    {
        var summary = Summary("""[{"type": "residual", "layers": [{"type": "linear", "outFeatures": 5}, {"type": "relu"}, {"type": "linear", "outFeatures": 3}]}]""", [3]);

        var block = Assert.Single(summary.Layers);
        Assert.Equal([3], block.OutputShape);
        Assert.Equal(3 * 5 + 5 + 5 * 3 + 3, block.Parameters);
        Assert.Equal([[5], [5], [3]], block.Layers!.Select(layer => layer.OutputShape));
        Assert.Equal(2 * 3 * 5 + 5 + 2 * 5 * 3 + 3, block.Flops);
    }

    [Fact]
    public void Flops_and_the_training_estimate_follow_the_layers()
    {
        var summary = Summary("""[{"type": "conv2d", "outChannels": 2, "kernelSize": 3}, {"type": "flatten"}, {"type": "linear", "outFeatures": 4}]""", [1, 5, 5]);

        // conv: 2 outputs × 3×3 outputs positions × (1×3×3 weights) multiply-adds; linear: 18 → 4.
        Assert.Equal([2L * 9 * 2 * 9, 0, 2 * 18 * 4], summary.Layers.Select(layer => layer.Flops));
        Assert.Equal(2 * 9 + 2 + 18 * 4 + 4, summary.TotalParameters);
        var estimate = summary.Estimate(batchSize: 10);
        Assert.Equal(summary.ForwardFlops * 10, estimate.ForwardFlops);
        Assert.Equal(estimate.ForwardFlops * 3, estimate.TrainingFlops);
        Assert.Equal(summary.TotalParameters * 4 * 4, estimate.ParameterBytes);
        Assert.Equal((25 + 18 + 18 + 4) * 10 * 4 * 2, estimate.ActivationBytes);
        Assert.Equal(estimate.ParameterBytes + estimate.ActivationBytes, estimate.TotalBytes);
    }

    [Fact]
    public void Pooling_follows_pytorchs_output_size_rule_with_ceil_mode()
    {
        // PyTorch: 7 wide, kernel 2, stride 2 → 3 (floor) or 4 (ceil); the last ceil window must start inside the input.
        Assert.Equal([1, 3, 3], Summary("""[{"type": "maxPool2d", "kernelSize": 2}]""", [1, 7, 7]).OutputShape);
        Assert.Equal([1, 4, 4], Summary("""[{"type": "maxPool2d", "kernelSize": 2, "ceilMode": true}]""", [1, 7, 7]).OutputShape);
        Assert.Equal([1, 3], Summary("""[{"type": "maxPool1d", "kernelSize": 2, "stride": 2, "padding": 1, "ceilMode": true}]""", [1, 4]).OutputShape);
    }

    [Fact]
    public void Every_template_fits_the_input_it_expects_and_ends_with_ten_logits()
    {
        Assert.Equal(["linear-classifier", "mlp", "lenet5", "cnn-28", "cnn-32", "resnet-small"], ModelTemplates.All.Select(template => template.Name));
        Assert.All(ModelTemplates.All, template =>
        {
            var errors = new ValidationErrors();
            var layers = ModelValidator.Resolve(template.Layers, errors);
            Assert.True(errors.IsEmpty, $"{template.Name}: {errors}");
            Assert.Equal([10], ModelValidator.InferShapes(layers!, template.InputShape, errors)!.OutputShape);
        });
        Assert.Equal(61_706, Summary(ModelTemplates.All.Single(t => t.Name == "lenet5").Layers, [1, 28, 28]).TotalParameters);
    }

    [Fact]
    public void An_empty_stack_is_refused()
    {
        var errors = new ValidationErrors();

        Assert.Null(ModelValidator.Resolve([], errors));
        Assert.Contains("needs at least one layer", errors.ToDictionary()["layers"][0], StringComparison.Ordinal);
    }

    private static (string Field, string Message) Problem(string stack, int[] inputShape)
    {
        var errors = new ValidationErrors();
        var layers = ModelValidator.Resolve(JsonSerializer.Deserialize<List<LayerSpec?>>(stack), errors);
        Assert.True(layers is not null, errors.ToString());
        Assert.Null(ModelValidator.InferShapes(layers, inputShape, errors));
        var (field, messages) = Assert.Single(errors.ToDictionary());
        return (field, Assert.Single(messages));
    }

    private static ModelSummary Summary(string stack, int[] inputShape) =>
        Summary(JsonSerializer.Deserialize<List<LayerSpec?>>(stack)!, inputShape);

    private static ModelSummary Summary(IReadOnlyList<LayerSpec?> stack, int[] inputShape)
    {
        var errors = new ValidationErrors();
        var summary = ModelValidator.InferShapes(ModelValidator.Resolve(stack, errors)!, inputShape, errors);
        Assert.True(summary is not null, errors.ToString());
        return summary;
    }

    internal static LayerSpec Layer(string type, params (string Name, object Value)[] parameters) =>
        new(type, parameters.ToDictionary(p => p.Name, p => JsonSerializer.SerializeToElement(p.Value)));
}
