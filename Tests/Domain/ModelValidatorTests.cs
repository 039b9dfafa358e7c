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
    public void An_empty_stack_is_refused()
    {
        var errors = new ValidationErrors();

        Assert.Null(ModelValidator.Resolve([], errors));
        Assert.Contains("needs at least one layer", errors.ToDictionary()["layers"][0], StringComparison.Ordinal);
    }

    internal static LayerSpec Layer(string type, params (string Name, object Value)[] parameters) =>
        new(type, parameters.ToDictionary(p => p.Name, p => JsonSerializer.SerializeToElement(p.Value)));
}
