using Experiments.Domain.Models;

namespace Experiments.Training.Export.Onnx;

/// <summary>
/// Turns each layer of a resolved stack into ONNX nodes that compute what <see cref="Layers.ModelBuilder"/>'s module
/// computes in eval mode, reading its weights from the state dict by the module's key prefix (<c>3.</c>,
/// <c>3.layers.1.</c>). Shapes per sample come from the validator's summary, so every reshape target is static.
/// </summary>
internal sealed class LayerEmitter(OnnxGraph graph, StateDict weights)
{
    private static readonly int[] LstmGates = [0, 3, 1, 2]; // PyTorch i, f, g, o → ONNX i, o, f, c
    private static readonly int[] GruGates = [1, 0, 2]; // PyTorch r, z, n → ONNX z, r, h

    public string Stack(string x, IReadOnlyList<LayerSpec> layers, IReadOnlyList<LayerSummary> shapes, int[] input, string prefix, string path)
    {
        for (var index = 0; index < layers.Count; index++)
        {
            var layerPrefix = $"{prefix}{index}.";
            x = Layer(x, layers[index], shapes[index], input, layerPrefix, $"{path}[{index}]");
            input = shapes[index].OutputShape;
        }
        return x;
    }

    private string Layer(string x, LayerSpec layer, LayerSummary shape, int[] input, string prefix, string path)
    {
        var name = prefix + layer.Type;
        switch (layer.Type)
        {
            case "linear":
                return Linear(x, layer, prefix, name);
            case "conv1d":
                return Convolution(x, layer, prefix, name, Ints(layer, "kernelSize", 1), Ints(layer, "stride", 1), Ints(layer, "padding", 1), Ints(layer, "dilation", 1));
            case "conv2d":
                return Convolution(x, layer, prefix, name, Ints(layer, "kernelSize", 2), Ints(layer, "stride", 2), Ints(layer, "padding", 2), Ints(layer, "dilation", 2));
            case "maxPool1d":
            case "maxPool2d":
                {
                    var dimensions = layer.Type == "maxPool1d" ? 1 : 2;
                    var kernel = Ints(layer, "kernelSize", dimensions);
                    return graph.Node("MaxPool", name, [x],
                        OnnxAttribute.Of("kernel_shape", kernel),
                        OnnxAttribute.Of("strides", layer.Has("stride") ? Ints(layer, "stride", dimensions) : kernel),
                        OnnxAttribute.Of("pads", Pads(Ints(layer, "padding", dimensions))),
                        OnnxAttribute.Of("dilations", Ints(layer, "dilation", dimensions)),
                        OnnxAttribute.Of("ceil_mode", layer.Bool("ceilMode") ? 1L : 0L));
                }
            case "avgPool2d":
                {
                    var kernel = Ints(layer, "kernelSize", 2);
                    return graph.Node("AveragePool", name, [x],
                        OnnxAttribute.Of("kernel_shape", kernel),
                        OnnxAttribute.Of("strides", layer.Has("stride") ? Ints(layer, "stride", 2) : kernel),
                        OnnxAttribute.Of("pads", Pads(Ints(layer, "padding", 2))),
                        OnnxAttribute.Of("ceil_mode", layer.Bool("ceilMode") ? 1L : 0L),
                        OnnxAttribute.Of("count_include_pad", layer.Bool("countIncludePad") ? 1L : 0L));
                }
            case "adaptiveAvgPool2d":
                return AdaptiveAveragePool(x, input, shape.OutputShape, prefix, name);
            case "batchNorm1d":
            case "batchNorm2d":
                return BatchNorm(x, layer, input, prefix, name);
            case "layerNorm":
                return LayerNorm(x, layer, input, prefix, name);
            case "dropout":
                return x; // identity in eval mode
            case "flatten":
            case "reshape":
                return graph.Node("Reshape", name, [x, OnnxExport.Shape(graph, prefix + "shape", shape.OutputShape)]);
            case "relu":
                return graph.Node("Relu", name, [x]);
            case "leakyRelu":
                return graph.Node("LeakyRelu", name, [x], OnnxAttribute.Of("alpha", (float)layer.Double("negativeSlope")));
            case "elu":
                return graph.Node("Elu", name, [x], OnnxAttribute.Of("alpha", (float)layer.Double("alpha")));
            case "gelu":
                return layer.String("approximate") == "tanh" ? GeluTanh(x, prefix, name) : Gelu(x, prefix, name);
            case "sigmoid":
                return graph.Node("Sigmoid", name, [x]);
            case "tanh":
                return graph.Node("Tanh", name, [x]);
            case "softmax":
                return graph.Node("Softmax", name, [x], OnnxAttribute.Of("axis", layer.Long("dim")));
            case "logSoftmax":
                return graph.Node("LogSoftmax", name, [x], OnnxAttribute.Of("axis", layer.Long("dim")));
            case "embedding":
                {
                    // IndexEmbedding casts the float features to int64 (truncating), then looks them up.
                    var indices = graph.Node("Cast", prefix + "indices", [x], OnnxAttribute.Of("to", 7L));
                    var table = weights[prefix + "embedding.weight"];
                    return graph.Node("Gather", name, [graph.Constant(prefix + "embedding.weight", table.Shape, table.Floats()), indices], OnnxAttribute.Of("axis", 0L));
                }
            case "lstm":
            case "gru":
                return Recurrent(x, layer, input, prefix, name);
            case "residual":
                {
                    var branch = Stack(x, ModelValidator.SubLayers(layer), shape.Layers!, input, prefix + "layers.", path + ".layers");
                    return graph.Node("Add", name, [x, branch]);
                }
            default:
                throw new ExportRefusedException(path, $"({layer.Type}) has no ONNX equivalent in this exporter; download format=pytorch or safetensors instead.");
        }
    }

    private string Linear(string x, LayerSpec layer, string prefix, string name)
    {
        var weight = weights[prefix + "weight"];
        var (outputs, inputs) = ((int)weight.Shape[0], (int)weight.Shape[1]);
        var values = weight.Floats();
        // y = x Wᵀ + b on the last dimension: MatMul with Wᵀ works for any rank (Gemm only for 2-D).
        var transposed = new float[values.Length];
        for (var o = 0; o < outputs; o++)
        {
            for (var i = 0; i < inputs; i++)
            {
                transposed[i * outputs + o] = values[o * inputs + i];
            }
        }
        var y = graph.Node("MatMul", name, [x, graph.Constant(prefix + "weight.T", [inputs, outputs], transposed)]);
        return layer.Bool("bias") ? graph.Node("Add", name + ".bias", [y, Tensor(prefix + "bias")]) : y;
    }

    private string Convolution(string x, LayerSpec layer, string prefix, string name, long[] kernel, long[] stride, long[] padding, long[] dilation)
    {
        string[] inputs = layer.Bool("bias") ? [x, Tensor(prefix + "weight"), Tensor(prefix + "bias")] : [x, Tensor(prefix + "weight")];
        return graph.Node("Conv", name, inputs,
            OnnxAttribute.Of("kernel_shape", kernel),
            OnnxAttribute.Of("strides", stride),
            OnnxAttribute.Of("pads", Pads(padding)),
            OnnxAttribute.Of("dilations", dilation),
            OnnxAttribute.Of("group", layer.Long("groups")));
    }

    /// <summary>
    /// AdaptiveAvgPool2d: a plain AveragePool when the output divides the input; otherwise PyTorch's windows
    /// [⌊i·H/h⌋, ⌈(i+1)·H/h⌉) differ in size, and the pooling is a MatMul of the flattened pixels with the matrix
    /// that averages each window.
    /// </summary>
    private string AdaptiveAveragePool(string x, int[] input, int[] output, string prefix, string name)
    {
        var (channels, height, width) = (input[0], input[1], input[2]);
        var (outHeight, outWidth) = (output[1], output[2]);
        if (height % outHeight == 0 && width % outWidth == 0)
        {
            long[] kernel = [height / outHeight, width / outWidth];
            return graph.Node("AveragePool", name, [x], OnnxAttribute.Of("kernel_shape", kernel), OnnxAttribute.Of("strides", kernel));
        }
        var pooling = new float[height * width * outHeight * outWidth];
        for (var i = 0; i < outHeight; i++)
        {
            var (top, bottom) = (i * height / outHeight, ((i + 1) * height + outHeight - 1) / outHeight);
            for (var j = 0; j < outWidth; j++)
            {
                var (left, right) = (j * width / outWidth, ((j + 1) * width + outWidth - 1) / outWidth);
                var weight = 1f / ((bottom - top) * (right - left));
                for (var h = top; h < bottom; h++)
                {
                    for (var w = left; w < right; w++)
                    {
                        pooling[(h * width + w) * outHeight * outWidth + i * outWidth + j] = weight;
                    }
                }
            }
        }
        var flat = graph.Node("Reshape", name + ".flat", [x, OnnxExport.Shape(graph, prefix + "flat", [channels, height * width])]);
        var pooled = graph.Node("MatMul", name + ".pooled", [flat, graph.Constant(prefix + "pooling", [height * width, outHeight * outWidth], pooling)]);
        return graph.Node("Reshape", name, [pooled, OnnxExport.Shape(graph, prefix + "shape", output)]);
    }

    private string BatchNorm(string x, LayerSpec layer, int[] input, string prefix, string name)
    {
        var channels = input[0];
        var epsilon = (float)layer.Double("eps");
        var affine = layer.Bool("affine");
        if (layer.Bool("trackRunningStats"))
        {
            var gamma = affine ? Tensor(prefix + "weight") : graph.Constant(prefix + "weight", [channels], Filled(channels, 1f));
            var beta = affine ? Tensor(prefix + "bias") : graph.Constant(prefix + "bias", [channels], Filled(channels, 0f));
            return graph.Node("BatchNormalization", name, [x, gamma, beta, Tensor(prefix + "running_mean"), Tensor(prefix + "running_var")],
                OnnxAttribute.Of("epsilon", epsilon));
        }
        // Without running statistics PyTorch normalizes by the batch's own mean and (biased) variance, in eval mode too.
        long[] axes = [0, .. Enumerable.Range(2, input.Length - 1).Select(axis => (long)axis)];
        var mean = graph.Node("ReduceMean", name + ".mean", [x], OnnxAttribute.Of("axes", axes), OnnxAttribute.Of("keepdims", 1L));
        var centred = graph.Node("Sub", name + ".centred", [x, mean]);
        var variance = graph.Node("ReduceMean", name + ".variance", [graph.Node("Mul", name + ".squared", [centred, centred])],
            OnnxAttribute.Of("axes", axes), OnnxAttribute.Of("keepdims", 1L));
        var deviation = graph.Node("Sqrt", name + ".deviation", [graph.Node("Add", name + ".eps", [variance, graph.Scalar(prefix + "eps", epsilon)])]);
        var normalized = graph.Node("Div", affine ? name + ".normalized" : name, [centred, deviation]);
        if (!affine)
        {
            return normalized;
        }
        // weight and bias broadcast over [C] followed by one 1 per spatial dimension.
        long[] perChannel = [channels, .. Enumerable.Repeat(1L, input.Length - 1)];
        var weight = graph.Constant(prefix + "weight", perChannel, weights[prefix + "weight"].Floats());
        var bias = graph.Constant(prefix + "bias", perChannel, weights[prefix + "bias"].Floats());
        return graph.Node("Add", name, [graph.Node("Mul", name + ".scaled", [normalized, weight]), bias]);
    }

    private string LayerNorm(string x, LayerSpec layer, int[] input, string prefix, string name)
    {
        int[] normalized = layer.Has("normalizedShape") ? layer.Ints("normalizedShape") : [input[^1]];
        long[] dims = [.. normalized.Select(d => (long)d)];
        var elements = normalized.Aggregate(1, (product, d) => product * d);
        var affine = layer.Bool("elementwiseAffine");
        var scale = affine ? Tensor(prefix + "weight") : graph.Constant(prefix + "weight", dims, Filled(elements, 1f));
        string[] inputs = affine && layer.Bool("bias") ? [x, scale, Tensor(prefix + "bias")] : [x, scale];
        return graph.Node("LayerNormalization", name, inputs,
            OnnxAttribute.Of("axis", (long)-normalized.Length),
            OnnxAttribute.Of("epsilon", (float)layer.Double("eps")));
    }

    /// <summary>GELU (opset 20 has it as one operator): x · ½ · (1 + erf(x / √2)).</summary>
    private string Gelu(string x, string prefix, string name)
    {
        var scaled = graph.Node("Mul", name + ".scaled", [x, graph.Scalar(prefix + "sqrt1_2", (float)(1 / Math.Sqrt(2)))]);
        var erf = graph.Node("Erf", name + ".erf", [scaled]);
        var plusOne = graph.Node("Add", name + ".plus_one", [erf, graph.Scalar(prefix + "one", 1f)]);
        var product = graph.Node("Mul", name + ".product", [x, plusOne]);
        return graph.Node("Mul", name, [product, graph.Scalar(prefix + "half", 0.5f)]);
    }

    /// <summary>GELU's tanh approximation: ½ · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³))).</summary>
    private string GeluTanh(string x, string prefix, string name)
    {
        var cube = graph.Node("Mul", name + ".cube", [graph.Node("Mul", name + ".square", [x, x]), x]);
        var inner = graph.Node("Add", name + ".inner", [x, graph.Node("Mul", name + ".kappa_cube", [cube, graph.Scalar(prefix + "kappa", 0.044715f)])]);
        var tanh = graph.Node("Tanh", name + ".tanh", [graph.Node("Mul", name + ".beta_inner", [inner, graph.Scalar(prefix + "beta", (float)Math.Sqrt(2 / Math.PI))])]);
        var plusOne = graph.Node("Add", name + ".plus_one", [tanh, graph.Scalar(prefix + "one", 1f)]);
        var product = graph.Node("Mul", name + ".product", [x, plusOne]);
        return graph.Node("Mul", name, [product, graph.Scalar(prefix + "half", 0.5f)]);
    }

    /// <summary>
    /// A batch-first LSTM or GRU (stacked, optionally bidirectional): ONNX's operators are one layer each, sequence
    /// first, with their gates in another order, so the input is transposed to [L, N, F], each layer's weights are
    /// regrouped, and the layers are chained on their [L, N, D·H] outputs. 'last' is the output at step L − 1.
    /// </summary>
    private string Recurrent(string x, LayerSpec layer, int[] input, string prefix, string name)
    {
        var lstm = layer.Type == "lstm";
        var hidden = layer.Int("hiddenSize");
        var directions = layer.Bool("bidirectional") ? 2 : 1;
        var steps = input[0];
        var order = lstm ? LstmGates : GruGates;
        var module = prefix + (lstm ? "lstm." : "gru.");
        var sequence = graph.Node("Transpose", name + ".time_major", [x], OnnxAttribute.Of("perm", new long[] { 1, 0, 2 }));
        for (var stacked = 0; stacked < layer.Int("numLayers"); stacked++)
        {
            var features = stacked == 0 ? input[^1] : directions * hidden;
            var suffixes = directions == 2 ? new[] { $"_l{stacked}", $"_l{stacked}_reverse" } : [$"_l{stacked}"];
            var w = suffixes.SelectMany(suffix => Regroup(weights[$"{module}weight_ih{suffix}"].Floats(), hidden, features, order)).ToArray();
            var r = suffixes.SelectMany(suffix => Regroup(weights[$"{module}weight_hh{suffix}"].Floats(), hidden, hidden, order)).ToArray();
            var gates = order.Length;
            var layerName = $"{name}.layer{stacked}";
            List<string> inputs =
            [
                sequence,
                graph.Constant($"{module}W{stacked}", [directions, gates * hidden, features], w),
                graph.Constant($"{module}R{stacked}", [directions, gates * hidden, hidden], r),
            ];
            if (layer.Bool("bias"))
            {
                var b = suffixes.SelectMany(suffix => Regroup(weights[$"{module}bias_ih{suffix}"].Floats(), hidden, 1, order)
                    .Concat(Regroup(weights[$"{module}bias_hh{suffix}"].Floats(), hidden, 1, order))).ToArray();
                inputs.Add(graph.Constant($"{module}B{stacked}", [directions, 2 * gates * hidden], b));
            }
            List<OnnxAttribute> attributes =
            [
                OnnxAttribute.Of("hidden_size", (long)hidden),
                OnnxAttribute.Of("direction", directions == 2 ? "bidirectional" : "forward"),
            ];
            if (!lstm)
            {
                // PyTorch applies the reset gate after the hidden state's linear transform: n = tanh(W·x + b + r ⊙ (U·h + c)).
                attributes.Add(OnnxAttribute.Of("linear_before_reset", 1L));
            }
            // Y is [L, D, N, H]; the next layer (and the caller) takes [L, N, D·H].
            var y = graph.Node(lstm ? "LSTM" : "GRU", layerName, [.. inputs], [.. attributes]);
            var stepMajor = graph.Node("Transpose", layerName + ".steps", [y], OnnxAttribute.Of("perm", new long[] { 0, 2, 1, 3 }));
            sequence = graph.Node("Reshape", layerName + ".output", [stepMajor, graph.Constant($"{layerName}.shape", [3], [0L, 0L, directions * hidden])]);
        }
        if (layer.String("output") == "last")
        {
            return graph.Node("Gather", name, [sequence, graph.Constant(prefix + "last_step", [], [(long)(steps - 1)])], OnnxAttribute.Of("axis", 0L));
        }
        return graph.Node("Transpose", name, [sequence], OnnxAttribute.Of("perm", new long[] { 1, 0, 2 }));
    }

    /// <summary>Rows of a [gates·H, columns] matrix (or a [gates·H] bias, columns 1) with its gate blocks in <paramref name="order"/>.</summary>
    private static IEnumerable<float> Regroup(float[] values, int hidden, int columns, int[] order) =>
        order.SelectMany(gate => values.Skip(gate * hidden * columns).Take(hidden * columns));

    private string Tensor(string key)
    {
        var tensor = weights[key];
        return graph.Constant(key, tensor.Shape, tensor.Floats());
    }

    private static long[] Ints(LayerSpec layer, string name, int count) => [.. layer.Ints(name, count).Select(value => (long)value)];

    /// <summary>ONNX pads: every dimension's start, then every dimension's end; PyTorch pads both sides alike.</summary>
    private static long[] Pads(long[] padding) => [.. padding, .. padding];

    private static float[] Filled(int count, float value) => Enumerable.Repeat(value, count).ToArray();
}
