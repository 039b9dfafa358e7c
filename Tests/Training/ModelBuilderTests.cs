using Experiments.Domain.Models;
using Experiments.Domain.Validation;
using Experiments.Tests.Domain;
using Experiments.Training.Layers;
using static TorchSharp.torch;

namespace Experiments.Tests.Training;

/// <summary>The module built from a spec has the validator's parameter count and produces its shapes.</summary>
public sealed class ModelBuilderTests
{
    public static TheoryData<string, int[], LayerSpec[]> Stacks => new()
    {
        { "linear", [4], [ModelValidatorTests.Layer("linear", ("outFeatures", 3))] },
        { "linear without bias", [4], [ModelValidatorTests.Layer("linear", ("outFeatures", 3), ("bias", false))] },
        { "linear on a matrix", [5, 4], [ModelValidatorTests.Layer("linear", ("outFeatures", 2))] },
        { "relu", [6], [ModelValidatorTests.Layer("relu")] },
        { "sigmoid", [6], [ModelValidatorTests.Layer("sigmoid")] },
        { "tanh", [6], [ModelValidatorTests.Layer("tanh")] },
        { "dropout", [6], [ModelValidatorTests.Layer("dropout", ("p", 0.3))] },
        { "flatten", [1, 28, 28], [ModelValidatorTests.Layer("flatten")] },
        { "flatten a range", [2, 3, 4], [ModelValidatorTests.Layer("flatten", ("startDim", 2), ("endDim", -1))] },
        { "mlp", [1, 8, 8], [
            ModelValidatorTests.Layer("flatten"),
            ModelValidatorTests.Layer("linear", ("outFeatures", 16)),
            ModelValidatorTests.Layer("tanh"),
            ModelValidatorTests.Layer("linear", ("outFeatures", 5)),
        ] },
    };

    [Theory]
    [MemberData(nameof(Stacks))]
    public void The_module_matches_the_validator(string name, int[] inputShape, LayerSpec[] stack)
    {
        var errors = new ValidationErrors();
        var layers = ModelValidator.Resolve(stack, errors)!;
        var summary = ModelValidator.InferShapes(layers, inputShape, errors)!;
        Assert.True(errors.IsEmpty, $"{name}: {errors}");

        using var model = ModelBuilder.Build(layers, summary);
        model.eval();
        using var input = randn([3L, .. inputShape.Select(d => (long)d)]);
        using var output = model.forward(input);

        Assert.Equal(summary.TotalParameters, model.parameters().Sum(parameter => parameter.numel()));
        Assert.Equal([3L, .. summary.OutputShape.Select(d => (long)d)], output.shape);
    }

    [Fact]
    public void Children_are_named_like_nn_sequential()
    {
        var errors = new ValidationErrors();
        var layers = ModelValidator.Resolve([ModelValidatorTests.Layer("linear", ("outFeatures", 4)), ModelValidatorTests.Layer("relu"), ModelValidatorTests.Layer("linear", ("outFeatures", 2))], errors)!;
        using var model = ModelBuilder.Build(layers, ModelValidator.InferShapes(layers, [3], errors)!);

        Assert.Equal(["0.weight", "0.bias", "2.weight", "2.bias"], model.state_dict().Keys);
    }
}
