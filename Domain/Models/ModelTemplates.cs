using System.Text.Json;

namespace Experiments.Domain.Models;

/// <summary>A layer stack to start from, with the shape of one sample it expects.</summary>
public sealed record ModelTemplate(string Name, string Description, int[] InputShape, IReadOnlyList<LayerSpec> Layers);

/// <summary>
/// Classic architectures written as layer stacks, served by <c>GET /api/models/templates</c>. Each ends with
/// one output per class (10 here): change the last layer's <c>outFeatures</c> to your dataset's class count.
/// </summary>
public static class ModelTemplates
{
    public static IReadOnlyList<ModelTemplate> All { get; } =
    [
        Template("linear-classifier", "Softmax regression: one linear layer from the flattened pixels to the class logits.", [1, 28, 28], """
            [{"type": "flatten"}, {"type": "linear", "outFeatures": 10}]
            """),
        Template("mlp", "Multi-layer perceptron: two hidden layers with ReLU and dropout.", [1, 28, 28], """
            [
              {"type": "flatten"},
              {"type": "linear", "outFeatures": 256}, {"type": "relu"}, {"type": "dropout", "p": 0.2},
              {"type": "linear", "outFeatures": 128}, {"type": "relu"}, {"type": "dropout", "p": 0.2},
              {"type": "linear", "outFeatures": 10}
            ]
            """),
        Template("lenet5", "LeNet-5 (LeCun et al., 1998) for 28×28 grey images, with ReLU and max pooling.", [1, 28, 28], """
            [
              {"type": "conv2d", "outChannels": 6, "kernelSize": 5, "padding": 2}, {"type": "relu"}, {"type": "maxPool2d", "kernelSize": 2},
              {"type": "conv2d", "outChannels": 16, "kernelSize": 5}, {"type": "relu"}, {"type": "maxPool2d", "kernelSize": 2},
              {"type": "flatten"},
              {"type": "linear", "outFeatures": 120}, {"type": "relu"},
              {"type": "linear", "outFeatures": 84}, {"type": "relu"},
              {"type": "linear", "outFeatures": 10}
            ]
            """),
        Template("cnn-28", "A small CNN for 28×28 grey images (MNIST, Fashion-MNIST): two convolution blocks with batch norm.", [1, 28, 28], """
            [
              {"type": "conv2d", "outChannels": 32, "kernelSize": 3, "padding": 1}, {"type": "batchNorm2d"}, {"type": "relu"}, {"type": "maxPool2d", "kernelSize": 2},
              {"type": "conv2d", "outChannels": 64, "kernelSize": 3, "padding": 1}, {"type": "batchNorm2d"}, {"type": "relu"}, {"type": "maxPool2d", "kernelSize": 2},
              {"type": "flatten"},
              {"type": "linear", "outFeatures": 128}, {"type": "relu"}, {"type": "dropout", "p": 0.25},
              {"type": "linear", "outFeatures": 10}
            ]
            """),
        Template("cnn-32", "A small CNN for 32×32 colour images (CIFAR-10): three convolution blocks with batch norm.", [3, 32, 32], """
            [
              {"type": "conv2d", "outChannels": 32, "kernelSize": 3, "padding": 1}, {"type": "batchNorm2d"}, {"type": "relu"}, {"type": "maxPool2d", "kernelSize": 2},
              {"type": "conv2d", "outChannels": 64, "kernelSize": 3, "padding": 1}, {"type": "batchNorm2d"}, {"type": "relu"}, {"type": "maxPool2d", "kernelSize": 2},
              {"type": "conv2d", "outChannels": 128, "kernelSize": 3, "padding": 1}, {"type": "batchNorm2d"}, {"type": "relu"}, {"type": "maxPool2d", "kernelSize": 2},
              {"type": "flatten"},
              {"type": "linear", "outFeatures": 256}, {"type": "relu"}, {"type": "dropout", "p": 0.5},
              {"type": "linear", "outFeatures": 10}
            ]
            """),
        Template("resnet-small", "A small residual CNN for 32×32 colour images: a stem, two stages of residual blocks, global average pooling.", [3, 32, 32], """
            [
              {"type": "conv2d", "outChannels": 16, "kernelSize": 3, "padding": 1, "bias": false}, {"type": "batchNorm2d"}, {"type": "relu"},
              {"type": "residual", "layers": [
                {"type": "conv2d", "outChannels": 16, "kernelSize": 3, "padding": 1, "bias": false}, {"type": "batchNorm2d"}, {"type": "relu"},
                {"type": "conv2d", "outChannels": 16, "kernelSize": 3, "padding": 1, "bias": false}, {"type": "batchNorm2d"}
              ]},
              {"type": "relu"},
              {"type": "conv2d", "outChannels": 32, "kernelSize": 3, "stride": 2, "padding": 1, "bias": false}, {"type": "batchNorm2d"}, {"type": "relu"},
              {"type": "residual", "layers": [
                {"type": "conv2d", "outChannels": 32, "kernelSize": 3, "padding": 1, "bias": false}, {"type": "batchNorm2d"}, {"type": "relu"},
                {"type": "conv2d", "outChannels": 32, "kernelSize": 3, "padding": 1, "bias": false}, {"type": "batchNorm2d"}
              ]},
              {"type": "relu"},
              {"type": "adaptiveAvgPool2d", "outputSize": 1},
              {"type": "flatten"},
              {"type": "linear", "outFeatures": 10}
            ]
            """),
    ];

    private static ModelTemplate Template(string name, string description, int[] inputShape, string layers) =>
        new(name, description, inputShape, JsonSerializer.Deserialize<List<LayerSpec>>(layers)!);
}
