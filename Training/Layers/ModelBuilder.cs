using Experiments.Domain.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Experiments.Training.Layers;

/// <summary>
/// Builds the TorchSharp module for a resolved layer stack. Children are named "0", "1", … like
/// PyTorch's <c>nn.Sequential</c>, so exported state-dict keys match what a PyTorch user expects.
/// </summary>
public static class ModelBuilder
{
    public static nn.Module<Tensor, Tensor> Build(IReadOnlyList<LayerSpec> layers, ModelSummary summary)
    {
        var modules = new (string, nn.Module<Tensor, Tensor>)[layers.Count];
        for (var index = 0; index < layers.Count; index++)
        {
            var input = index == 0 ? summary.InputShape : summary.Layers[index - 1].OutputShape;
            modules[index] = (index.ToString(System.Globalization.CultureInfo.InvariantCulture), Create(layers[index], input));
        }
        return nn.Sequential(modules);
    }

    private static nn.Module<Tensor, Tensor> Create(LayerSpec layer, int[] input) => layer.Type switch
    {
        "linear" => nn.Linear(input[^1], layer.Int("outFeatures"), hasBias: layer.Bool("bias")),
        "relu" => nn.ReLU(),
        "sigmoid" => nn.Sigmoid(),
        "tanh" => nn.Tanh(),
        "dropout" => nn.Dropout(layer.Double("p")),
        "flatten" => nn.Flatten(layer.Int("startDim"), layer.Int("endDim")),
        _ => throw new ArgumentException($"Layer type '{layer.Type}' has no TorchSharp module.", nameof(layer)),
    };
}
