using System.Text.Json;
using Experiments.Domain.Models;
using Experiments.Domain.Validation;
using Experiments.Tests.Support;
using Experiments.Training.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Experiments.Tests.Training;

/// <summary>
/// The module built from a spec has the validator's parameter count, layer by layer, and produces the shape the
/// validator predicted after every layer; every layer type of the catalog is covered, and every template trains a step.
/// </summary>
[Collection(OneAtATime.Name)]
public sealed class ModelBuilderTests
{
    public static TheoryData<string, int[], string> Stacks => new()
    {
        { "linear", [4], """[{"type": "linear", "outFeatures": 3}]""" },
        { "linear without bias", [4], """[{"type": "linear", "outFeatures": 3, "bias": false}]""" },
        { "linear on a matrix", [5, 4], """[{"type": "linear", "outFeatures": 2}]""" },
        { "conv1d", [3, 20], """[{"type": "conv1d", "outChannels": 4, "kernelSize": 3}]""" },
        { "conv1d strided, padded, dilated, grouped", [4, 21], """[{"type": "conv1d", "outChannels": 6, "kernelSize": 3, "stride": 2, "padding": 2, "dilation": 2, "groups": 2, "bias": false}]""" },
        { "conv2d", [1, 28, 28], """[{"type": "conv2d", "outChannels": 6, "kernelSize": 5, "padding": 2}]""" },
        { "conv2d with pairs", [2, 13, 17], """[{"type": "conv2d", "outChannels": 4, "kernelSize": [3, 5], "stride": [2, 1], "padding": [1, 0], "dilation": [1, 2], "groups": 2}]""" },
        { "maxPool1d", [3, 11], """[{"type": "maxPool1d", "kernelSize": 2}]""" },
        { "maxPool1d with stride, padding, dilation, ceil", [3, 11], """[{"type": "maxPool1d", "kernelSize": 3, "stride": 2, "padding": 1, "dilation": 2, "ceilMode": true}]""" },
        { "maxPool2d", [2, 9, 9], """[{"type": "maxPool2d", "kernelSize": 2}]""" },
        { "maxPool2d with pairs and ceil", [2, 9, 10], """[{"type": "maxPool2d", "kernelSize": [3, 2], "stride": [2, 3], "padding": [1, 0], "ceilMode": true}]""" },
        { "avgPool2d", [2, 8, 8], """[{"type": "avgPool2d", "kernelSize": 2}]""" },
        { "avgPool2d padded, ceil, without padding in the count", [2, 7, 9], """[{"type": "avgPool2d", "kernelSize": 3, "stride": 2, "padding": 1, "ceilMode": true, "countIncludePad": false}]""" },
        { "adaptiveAvgPool2d", [3, 9, 7], """[{"type": "adaptiveAvgPool2d", "outputSize": [2, 3]}]""" },
        { "batchNorm1d on features", [6], """[{"type": "batchNorm1d"}]""" },
        { "batchNorm1d on sequences", [4, 7], """[{"type": "batchNorm1d", "affine": false, "momentum": 0.2}]""" },
        { "batchNorm2d", [3, 5, 5], """[{"type": "batchNorm2d", "eps": 0.001}]""" },
        { "layerNorm", [4, 6], """[{"type": "layerNorm"}]""" },
        { "layerNorm over two dimensions without bias", [3, 4, 6], """[{"type": "layerNorm", "normalizedShape": [4, 6], "bias": false}]""" },
        { "layerNorm without affine", [6], """[{"type": "layerNorm", "elementwiseAffine": false}]""" },
        { "dropout", [6], """[{"type": "dropout", "p": 0.3}]""" },
        { "flatten", [1, 28, 28], """[{"type": "flatten"}]""" },
        { "flatten a range", [2, 3, 4], """[{"type": "flatten", "startDim": 2, "endDim": -1}]""" },
        { "reshape", [784], """[{"type": "reshape", "shape": [1, 28, 28]}]""" },
        { "reshape inferring a dimension", [24], """[{"type": "reshape", "shape": [2, -1, 3]}]""" },
        { "relu", [6], """[{"type": "relu"}]""" },
        { "leakyRelu", [6], """[{"type": "leakyRelu", "negativeSlope": 0.2}]""" },
        { "gelu", [6], """[{"type": "gelu", "approximate": "tanh"}]""" },
        { "elu", [6], """[{"type": "elu", "alpha": 0.5}]""" },
        { "sigmoid", [6], """[{"type": "sigmoid"}]""" },
        { "tanh", [6], """[{"type": "tanh"}]""" },
        { "softmax", [6], """[{"type": "softmax"}]""" },
        { "logSoftmax over a middle dimension", [3, 4], """[{"type": "logSoftmax", "dim": 1}]""" },
        { "embedding", [7], """[{"type": "embedding", "numEmbeddings": 10, "embeddingDim": 4, "paddingIdx": 0}]""" },
        { "lstm, last step", [7, 3], """[{"type": "lstm", "hiddenSize": 5}]""" },
        { "lstm, stacked, bidirectional, every step", [7, 3], """[{"type": "lstm", "hiddenSize": 5, "numLayers": 2, "bidirectional": true, "dropout": 0.1, "output": "sequence"}]""" },
        { "gru, last step", [7, 3], """[{"type": "gru", "hiddenSize": 4, "bias": false}]""" },
        { "gru, stacked, bidirectional, every step", [7, 3], """[{"type": "gru", "hiddenSize": 4, "numLayers": 3, "bidirectional": true, "output": "sequence"}]""" },
        { "residual", [4, 6, 6], """[{"type": "residual", "layers": [{"type": "conv2d", "outChannels": 4, "kernelSize": 3, "padding": 1}, {"type": "batchNorm2d"}, {"type": "relu"}]}]""" },
        { "nested residual", [8], """[{"type": "residual", "layers": [{"type": "linear", "outFeatures": 5}, {"type": "relu"}, {"type": "residual", "layers": [{"type": "linear", "outFeatures": 5}]}, {"type": "linear", "outFeatures": 8}]}]""" },
        { "text classifier", [12], """[{"type": "embedding", "numEmbeddings": 50, "embeddingDim": 8}, {"type": "gru", "hiddenSize": 6}, {"type": "linear", "outFeatures": 3}]""" },
        { "1-D CNN", [64], """[{"type": "reshape", "shape": [1, 64]}, {"type": "conv1d", "outChannels": 4, "kernelSize": 5}, {"type": "batchNorm1d"}, {"type": "elu"}, {"type": "maxPool1d", "kernelSize": 2}, {"type": "flatten"}, {"type": "layerNorm"}, {"type": "linear", "outFeatures": 2}]""" },
    };

    public static TheoryData<string> Templates => new(ModelTemplates.All.Select(template => template.Name));

    [Theory]
    [MemberData(nameof(Stacks))]
    public void The_module_matches_the_validator_layer_by_layer(string name, int[] inputShape, string stack)
    {
        var (layers, summary) = Validate(JsonSerializer.Deserialize<List<LayerSpec?>>(stack)!, inputShape, name);

        using var model = ModelBuilder.Build(layers, summary);
        model.eval();
        using var scope = NewDisposeScope();
        var output = Input(layers, inputShape, batch: 3);
        foreach (var (child, expected) in model.children().Cast<nn.Module<Tensor, Tensor>>().Zip(summary.Layers))
        {
            output = child.forward(output);
            Assert.Equal([3L, .. expected.OutputShape.Select(d => (long)d)], output.shape);
            Assert.Equal(expected.Parameters, child.parameters().Sum(parameter => parameter.numel()));
        }
        Assert.Equal(summary.TotalParameters, model.parameters().Sum(parameter => parameter.numel()));
    }

    [Theory]
    [MemberData(nameof(Templates))]
    public void Every_template_validates_and_trains_a_step(string name)
    {
        var template = ModelTemplates.All.Single(t => t.Name == name);
        var (layers, summary) = Validate(template.Layers, template.InputShape, name);
        Assert.Equal([10], summary.OutputShape);

        torch.manual_seed(1);
        using var model = ModelBuilder.Build(layers, summary);
        using var optimizer = optim.SGD(model.parameters(), 0.01);
        using var scope = NewDisposeScope();
        var inputs = randn([2L, .. template.InputShape.Select(d => (long)d)]);
        var before = model.parameters().First().detach().clone();

        optimizer.zero_grad();
        var loss = nn.functional.cross_entropy(model.forward(inputs), tensor(new long[] { 3, 7 }));
        loss.backward();
        optimizer.step();

        Assert.True(float.IsFinite(loss.item<float>()));
        Assert.False(before.allclose(model.parameters().First()), "the first weights did not move");
        Assert.Equal(summary.TotalParameters, model.parameters().Sum(parameter => parameter.numel()));
    }

    [Fact]
    public void Children_are_named_like_nn_sequential_and_a_residual_block_holds_its_layers()
    {
        var (layers, summary) = Validate(JsonSerializer.Deserialize<List<LayerSpec?>>("""
            [{"type": "linear", "outFeatures": 4}, {"type": "relu"}, {"type": "residual", "layers": [{"type": "linear", "outFeatures": 4}]}, {"type": "linear", "outFeatures": 2}]
            """)!, [3], "named");
        using var model = ModelBuilder.Build(layers, summary);

        Assert.Equal(["0.weight", "0.bias", "2.layers.0.weight", "2.layers.0.bias", "3.weight", "3.bias"], model.state_dict().Keys);
    }

    private static (IReadOnlyList<LayerSpec> Layers, ModelSummary Summary) Validate(IReadOnlyList<LayerSpec?> stack, int[] inputShape, string name)
    {
        var errors = new ValidationErrors();
        var layers = ModelValidator.Resolve(stack, errors);
        var summary = layers is null ? null : ModelValidator.InferShapes(layers, inputShape, errors);
        Assert.True(errors.IsEmpty, $"{name}: {errors}");
        return (layers!, summary!);
    }

    /// <summary>Random samples; token indices (as the dataset's floats) when the model starts with an embedding.</summary>
    private static Tensor Input(IReadOnlyList<LayerSpec> layers, int[] inputShape, int batch)
    {
        long[] shape = [batch, .. inputShape.Select(d => (long)d)];
        return layers[0].Type == "embedding"
            ? randint(0, layers[0].Int("numEmbeddings"), shape).to(ScalarType.Float32)
            : randn(shape);
    }
}
