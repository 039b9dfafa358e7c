using System.Globalization;
using Experiments.Domain.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Experiments.Training.Layers;

/// <summary>
/// Builds the TorchSharp module for a resolved layer stack. Children are named "0", "1", … like
/// PyTorch's <c>nn.Sequential</c>, so exported state-dict keys match what a PyTorch user expects; a residual
/// block's sub-stack is its child "layers". Input sizes come from the validator's summary, which is also why
/// the module's parameter count and shapes are exactly the ones the validator reported.
/// </summary>
public static class ModelBuilder
{
    /// <summary>
    /// torch.manual_seed is process-wide: it is held while a model's weights are initialised, so that runs and
    /// diagnostics starting together each get the initial weights of their own seed. Whoever seeds the global
    /// generator to build a model holds it (see <see cref="Build(IReadOnlyList{LayerSpec}, ModelSummary, long)"/>).
    /// </summary>
    public static Lock SeedLock { get; } = new();

    public static nn.Module<Tensor, Tensor> Build(IReadOnlyList<LayerSpec> layers, ModelSummary summary) =>
        Sequential(layers, summary.Layers, summary.InputShape);

    /// <summary>The module with the initial weights of <paramref name="seed"/>: the same for a run and for every check of it.</summary>
    public static nn.Module<Tensor, Tensor> Build(IReadOnlyList<LayerSpec> layers, ModelSummary summary, long seed)
    {
        lock (SeedLock)
        {
            manual_seed(seed);
            return Build(layers, summary);
        }
    }

    private static Sequential Sequential(IReadOnlyList<LayerSpec> layers, IReadOnlyList<LayerSummary> shapes, int[] input)
    {
        var modules = new (string, nn.Module<Tensor, Tensor>)[layers.Count];
        for (var index = 0; index < layers.Count; index++)
        {
            modules[index] = (index.ToString(CultureInfo.InvariantCulture), Create(layers[index], shapes[index], input));
            input = shapes[index].OutputShape;
        }
        return nn.Sequential(modules);
    }

    private static nn.Module<Tensor, Tensor> Create(LayerSpec layer, LayerSummary shape, int[] input) => layer.Type switch
    {
        "linear" => nn.Linear(input[^1], layer.Int("outFeatures"), hasBias: layer.Bool("bias")),
        "conv1d" => nn.Conv1d(input[0], layer.Int("outChannels"), layer.Int("kernelSize"), layer.Int("stride"), layer.Int("padding"), layer.Int("dilation"),
            groups: layer.Int("groups"), bias: layer.Bool("bias")),
        "conv2d" => nn.Conv2d(input[0], layer.Int("outChannels"), Pair(layer, "kernelSize"), Pair(layer, "stride"), Pair(layer, "padding"), Pair(layer, "dilation"),
            groups: layer.Int("groups"), bias: layer.Bool("bias")),
        "maxPool1d" => nn.MaxPool1d(layer.Int("kernelSize"), layer.IntOrNull("stride"), layer.Int("padding"), layer.Int("dilation"), layer.Bool("ceilMode")),
        "maxPool2d" => nn.MaxPool2d(Longs(layer, "kernelSize"), layer.Has("stride") ? Longs(layer, "stride") : null, Longs(layer, "padding"), Longs(layer, "dilation"), layer.Bool("ceilMode")),
        "avgPool2d" => nn.AvgPool2d(Longs(layer, "kernelSize"), layer.Has("stride") ? Longs(layer, "stride") : null, Longs(layer, "padding"), layer.Bool("ceilMode"), layer.Bool("countIncludePad")),
        "adaptiveAvgPool2d" => nn.AdaptiveAvgPool2d(Longs(layer, "outputSize")),
        "batchNorm1d" => nn.BatchNorm1d(input[0], layer.Double("eps"), layer.Double("momentum"), layer.Bool("affine"), layer.Bool("trackRunningStats")),
        "batchNorm2d" => nn.BatchNorm2d(input[0], layer.Double("eps"), layer.Double("momentum"), layer.Bool("affine"), layer.Bool("trackRunningStats")),
        "layerNorm" => nn.LayerNorm(layer.Has("normalizedShape") ? [.. layer.Ints("normalizedShape").Select(d => (long)d)] : [input[^1]],
            layer.Double("eps"), layer.Bool("elementwiseAffine"), layer.Bool("bias")),
        "dropout" => nn.Dropout(layer.Double("p")),
        "flatten" => nn.Flatten(layer.Int("startDim"), layer.Int("endDim")),
        "reshape" => new Reshape(shape.OutputShape),
        "relu" => nn.ReLU(),
        "leakyRelu" => nn.LeakyReLU(layer.Double("negativeSlope")),
        "gelu" => nn.GELU(layer.String("approximate") == "tanh" ? GELU.Approximate.tanh : GELU.Approximate.none),
        "elu" => nn.ELU(layer.Double("alpha")),
        "sigmoid" => nn.Sigmoid(),
        "tanh" => nn.Tanh(),
        "softmax" => nn.Softmax(layer.Int("dim")),
        "logSoftmax" => nn.LogSoftmax(layer.Int("dim")),
        "embedding" => new IndexEmbedding(nn.Embedding(layer.Int("numEmbeddings"), layer.Int("embeddingDim"), layer.IntOrNull("paddingIdx"))),
        "lstm" or "gru" => new Recurrent(layer, input[^1]),
        "residual" => new Residual(Sequential(ModelValidator.SubLayers(layer), shape.Layers!, input)),
        _ => throw new ArgumentException($"Layer type '{layer.Type}' has no TorchSharp module.", nameof(layer)),
    };

    private static (long, long) Pair(LayerSpec layer, string name)
    {
        var values = layer.Ints(name, 2);
        return (values[0], values[1]);
    }

    private static long[] Longs(LayerSpec layer, string name) => [.. layer.Ints(name, 2).Select(value => (long)value)];
}
