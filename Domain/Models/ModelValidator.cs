using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Experiments.Domain.Validation;

namespace Experiments.Domain.Models;

/// <summary>
/// What one layer produces for one sample (the batch dimension is left out), its learnable parameters and
/// an estimate of its forward floating-point operations per sample (a multiply-add counts as two).
/// A residual block lists its own layers.
/// </summary>
public sealed record LayerSummary(int Index, string Type, int[] OutputShape, long Parameters, long Flops)
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<LayerSummary>? Layers { get; init; }
}

public sealed record ModelSummary(int[] InputShape, IReadOnlyList<LayerSummary> Layers, long TotalParameters)
{
    public int[] OutputShape => Layers.Count == 0 ? InputShape : Layers[^1].OutputShape;

    /// <summary>Estimated forward FLOPs for one sample.</summary>
    public long ForwardFlops => Layers.Sum(layer => layer.Flops);

    /// <summary>Floats per sample that training keeps for the backward pass: the input and every layer's output.</summary>
    internal long ActivationElements => ModelValidator.Elements(InputShape) + Outputs(Layers);

    public TrainingEstimate Estimate(int batchSize) => TrainingEstimate.Of(this, batchSize);

    private static long Outputs(IReadOnlyList<LayerSummary> layers) =>
        layers.Sum(layer => ModelValidator.Elements(layer.OutputShape) + (layer.Layers is null ? 0 : Outputs(layer.Layers)));
}

/// <summary>
/// Rough cost of one training step at a batch size, in float32: forward FLOPs; training FLOPs (forward and
/// backward, about three forwards); parameter memory for weights, gradients and two optimizer moments
/// (Adam's state, the largest of the optimizers offered); activation memory for every layer's output and its
/// gradient. An estimate for planning, not a measurement: libraries add workspace and allocator slack.
/// <see cref="TotalBytes"/> is what run creation compares with the memory limits (<see cref="ModelLimits"/>).
/// </summary>
public sealed record TrainingEstimate(int BatchSize, long ForwardFlops, long TrainingFlops, long ParameterBytes, long ActivationBytes, long TotalBytes)
{
    public const int BytesPerFloat = 4;

    /// <summary>The estimate; <see cref="OverflowException"/> when a figure does not fit in 64 bits (see <see cref="ModelValidator.Estimate"/>).</summary>
    public static TrainingEstimate Of(ModelSummary summary, int batchSize)
    {
        checked
        {
            var forward = summary.ForwardFlops * batchSize;
            var parameters = summary.TotalParameters * BytesPerFloat * 4;
            var activations = summary.ActivationElements * batchSize * BytesPerFloat * 2;
            return new TrainingEstimate(batchSize, forward, forward * 3, parameters, activations, parameters + activations);
        }
    }
}

/// <summary>
/// Checks a layer stack before anything runs: every type and hyperparameter against the catalog, and,
/// given the shape of one sample, every layer's output shape, parameter count and FLOPs — the same shapes and
/// parameter counts the TorchSharp module built from the stack has. Problems name the layer by its path
/// (<c>layers[3]</c>, <c>layers[2].layers[0]</c>), say what it needs and what it receives, and how to fix it.
/// </summary>
public static class ModelValidator
{
    public const int MaxLayers = 256;
    public const int MaxNesting = 8;

    /// <summary>The layers with defaults filled in (residual sub-stacks too), or null with the problems in <paramref name="errors"/>.</summary>
    public static IReadOnlyList<LayerSpec>? Resolve(IReadOnlyList<LayerSpec?>? layers, ValidationErrors errors, string path = "layers")
    {
        var resolved = Resolve(layers, errors, path, depth: 0);
        if (resolved is not null && Count(resolved) > MaxLayers)
        {
            errors.Add(path, $"has {Count(resolved)} layers counting those inside residual blocks; at most {MaxLayers} are allowed.");
            return null;
        }
        return resolved;
    }

    /// <summary>
    /// Infers each layer's output shape for samples of <paramref name="inputShape"/>. Every count is checked: a layer
    /// whose output, parameters or FLOPs (or the model's totals up to it) do not fit is refused as too large, so the
    /// summary's totals and properties never overflow.
    /// </summary>
    public static ModelSummary? InferShapes(IReadOnlyList<LayerSpec> layers, int[] inputShape, ValidationErrors errors, string path = "layers")
    {
        if (!TryElements(inputShape, out _))
        {
            errors.Add("inputShape", $"{Format(inputShape)} has more elements per sample than can be counted; use a smaller sample shape.");
            return null;
        }
        var summaries = InferStack(layers, inputShape, path, errors, atModelInput: true);
        return summaries is null ? null : new ModelSummary(inputShape, summaries, summaries.Sum(layer => layer.Parameters));
    }

    /// <summary>
    /// The training estimate at <paramref name="batchSize"/>, or null with a problem under <paramref name="path"/> when one
    /// of its figures does not fit in 64 bits (the model is far too large to train at that batch size).
    /// </summary>
    public static TrainingEstimate? Estimate(ModelSummary summary, int batchSize, ValidationErrors errors, string path = "batchSize")
    {
        try
        {
            return TrainingEstimate.Of(summary, batchSize);
        }
        catch (OverflowException)
        {
            errors.Add(path, $"at batch size {batchSize} one training step's FLOPs or memory are too large to count (over {long.MaxValue} bytes or FLOPs); "
                + "the model is far too large to train: use fewer or smaller layers, or a smaller batch size.");
            return null;
        }
    }

    /// <summary>
    /// Refuses a model with more parameters than <see cref="ModelLimits.MaxParameters"/>, under <paramref name="path"/>;
    /// true when it is within the limit.
    /// </summary>
    public static bool CheckParameters(ModelSummary summary, ModelLimits limits, ValidationErrors errors, string path = "layers")
    {
        if (summary.TotalParameters <= limits.MaxParameters)
        {
            return true;
        }
        errors.Add(path, string.Create(CultureInfo.InvariantCulture,
            $"has {summary.TotalParameters:N0} parameters, more than the limit of {limits.MaxParameters:N0} (setting {limits.MaxParametersSetting}); use fewer or smaller layers."));
        return false;
    }

    public static string Format(int[] shape) => $"[{string.Join(",", shape)}]";

    /// <summary>Elements of one sample of <paramref name="shape"/>; <see cref="OverflowException"/> when they do not fit in 64 bits.</summary>
    public static long Elements(int[] shape) => shape.Aggregate(1L, (product, dimension) => checked(product * dimension));

    private static bool TryElements(int[] shape, out long elements)
    {
        try
        {
            elements = Elements(shape);
            return true;
        }
        catch (OverflowException)
        {
            elements = 0;
            return false;
        }
    }

    private static int Count(IReadOnlyList<LayerSpec> layers) =>
        layers.Sum(layer => 1 + (layer.Type == "residual" ? Count(SubLayers(layer)) : 0));

    /// <summary>The sub-stack of a resolved residual block.</summary>
    public static IReadOnlyList<LayerSpec> SubLayers(LayerSpec residual) =>
        residual.Parameters["layers"].Deserialize<List<LayerSpec>>()!;

    private static List<LayerSpec>? Resolve(IReadOnlyList<LayerSpec?>? layers, ValidationErrors errors, string path, int depth)
    {
        if (layers is null || layers.Count == 0)
        {
            errors.Add(path, "needs at least one layer, e.g. [{\"type\": \"linear\", \"outFeatures\": 3}].");
            return null;
        }
        if (layers.Count > MaxLayers)
        {
            errors.Add(path, $"has {layers.Count} layers; at most {MaxLayers} are allowed.");
            return null;
        }
        var resolved = new List<LayerSpec>(layers.Count);
        var valid = true;
        for (var index = 0; index < layers.Count; index++)
        {
            var layerPath = $"{path}[{index}]";
            var layer = LayerCatalog.Instance.Resolve(layers[index], layerPath, errors);
            if (layer is not null && layer.Type == "residual")
            {
                layer = ResolveResidual(layer, errors, layerPath, depth);
            }
            if (layer is null)
            {
                valid = false;
            }
            else
            {
                resolved.Add(layer);
            }
        }
        return valid ? resolved : null;
    }

    private static LayerSpec? ResolveResidual(LayerSpec residual, ValidationErrors errors, string path, int depth)
    {
        if (depth + 1 >= MaxNesting)
        {
            errors.Add($"{path}.layers", $"nests residual blocks more than {MaxNesting} deep.");
            return null;
        }
        var inner = Resolve(residual.Parameters["layers"].Deserialize<List<LayerSpec?>>(), errors, $"{path}.layers", depth + 1);
        return inner is null
            ? null
            : residual with { Parameters = new Dictionary<string, JsonElement>(residual.Parameters) { ["layers"] = JsonSerializer.SerializeToElement(inner) } };
    }

    private static List<LayerSummary>? InferStack(IReadOnlyList<LayerSpec> layers, int[] input, string path, ValidationErrors errors, bool atModelInput)
    {
        var summaries = new List<LayerSummary>(layers.Count);
        var shape = input;
        var totals = new Totals(Elements(input));
        for (var index = 0; index < layers.Count; index++)
        {
            var layer = layers[index];
            var layerPath = $"{path}[{index}]";
            LayerSummary? summary;
            try
            {
                summary = layer.Type == "residual"
                    ? InferResidual(layer, index, shape, layerPath, errors)
                    : InferLayer(layer, index, shape, layerPath, errors, atModelInput && index == 0);
                if (summary is not null)
                {
                    totals.Add(summary);
                }
            }
            catch (OverflowException)
            {
                errors.Add(layerPath, TooLarge(layer));
                return null;
            }
            if (summary is null)
            {
                return null;
            }
            summaries.Add(summary);
            shape = summary.OutputShape;
        }
        return summaries;
    }

    private static LayerSummary? InferLayer(LayerSpec layer, int index, int[] input, string path, ValidationErrors errors, bool first)
    {
        var outcome = Infer(layer, input, first);
        if (outcome.Problem is not null)
        {
            errors.Add(path, $"({layer.Type}) {outcome.Problem}");
            return null;
        }
        return new LayerSummary(index, layer.Type, outcome.Output!, outcome.Parameters, outcome.Flops);
    }

    /// <summary>
    /// Running totals of a stack, in checked arithmetic: what <see cref="ModelSummary"/> sums later (parameters, FLOPs,
    /// activation elements) must fit, and the layer that makes one overflow is the one refused.
    /// </summary>
    private sealed class Totals(long inputElements)
    {
        private long _parameters;
        private long _flops;
        private long _activations = inputElements;

        public void Add(LayerSummary layer)
        {
            checked
            {
                _parameters += layer.Parameters;
                _flops += layer.Flops;
                _activations += Activations(layer);
            }
        }

        private static long Activations(LayerSummary layer) =>
            checked(Elements(layer.OutputShape) + (layer.Layers?.Sum(Activations) ?? 0));
    }

    /// <summary>"(linear) is too large: …; make outFeatures smaller." The hyperparameters named are those that size the layer.</summary>
    private static string TooLarge(LayerSpec layer)
    {
        var sizes = layer.Type switch
        {
            "linear" => "outFeatures (or the features it receives)",
            "conv1d" or "conv2d" => "outChannels, kernelSize, padding or dilation",
            "maxPool1d" or "maxPool2d" or "avgPool2d" => "kernelSize or padding",
            "adaptiveAvgPool2d" => "outputSize",
            "embedding" => "numEmbeddings or embeddingDim",
            "lstm" or "gru" => "hiddenSize or numLayers",
            "reshape" => "the shape",
            "residual" => "the layers inside it",
            _ => "the layers before it",
        };
        return $"({layer.Type}) is too large: its output, parameter count or FLOPs (or the model's totals up to it) overflow what can be counted "
            + $"(a dimension over {int.MaxValue}, or a count over {long.MaxValue}); make {sizes} smaller.";
    }

    private static LayerSummary? InferResidual(LayerSpec residual, int index, int[] input, string path, ValidationErrors errors)
    {
        var inner = InferStack(SubLayers(residual), input, $"{path}.layers", errors, atModelInput: false);
        if (inner is null)
        {
            return null;
        }
        var output = inner[^1].OutputShape;
        if (!output.SequenceEqual(input))
        {
            errors.Add(path, $"(residual) adds its input {Format(input)} to the output of its layers, which is {Format(output)}; "
                + $"the layers must keep the shape {Format(input)}"
                + (output.Length == input.Length && output.Length > 1 && output.AsSpan(1).SequenceEqual(input.AsSpan(1))
                    ? $" — give the last of them {input[0]} output channels."
                    : " — keep the channels and use padding that keeps the size (kernelSize 3 with padding 1)."));
            return null;
        }
        return new LayerSummary(index, residual.Type, input, inner.Sum(layer => layer.Parameters), checked(inner.Sum(layer => layer.Flops) + Elements(input)))
        {
            Layers = inner,
        };
    }

    private readonly record struct Outcome(int[]? Output, long Parameters, long Flops, string? Problem)
    {
        public static Outcome Of(int[] output, long parameters, long flops) => new(output, parameters, flops, null);

        public static Outcome Fail(string problem) => new(null, 0, 0, problem);
    }

    private static Outcome Infer(LayerSpec layer, int[] input, bool first) => layer.Type switch
    {
        "linear" => Linear(layer, input),
        "conv1d" => Convolution(layer, input, 1),
        "conv2d" => Convolution(layer, input, 2),
        "maxPool1d" => Pooling(layer, input, 1, dilated: true),
        "maxPool2d" => Pooling(layer, input, 2, dilated: true),
        "avgPool2d" => Pooling(layer, input, 2, dilated: false),
        "adaptiveAvgPool2d" => AdaptivePooling(layer, input),
        "batchNorm1d" => BatchNorm(layer, input, 1),
        "batchNorm2d" => BatchNorm(layer, input, 2),
        "layerNorm" => LayerNorm(layer, input),
        "flatten" => Flatten(layer, input),
        "reshape" => Reshape(layer, input),
        "dropout" or "relu" or "leakyRelu" or "gelu" or "elu" or "sigmoid" or "tanh" => Outcome.Of(input, 0, Elements(input)),
        "softmax" or "logSoftmax" => Softmax(layer, input),
        "embedding" => Embedding(layer, input, first),
        "lstm" => Recurrent(layer, input, gates: 4),
        "gru" => Recurrent(layer, input, gates: 3),
        _ => Outcome.Fail("has no shape rule; this is a bug in Experiments."),
    };

    private static Outcome Linear(LayerSpec layer, int[] input)
    {
        var outFeatures = layer.Int("outFeatures");
        var inFeatures = input[^1];
        var positions = Elements(input) / inFeatures;
        var parameters = checked((long)inFeatures * outFeatures + (layer.Bool("bias") ? outFeatures : 0));
        return Outcome.Of([.. input[..^1], outFeatures], parameters, checked(2L * inFeatures * outFeatures * positions));
    }

    private static Outcome Convolution(LayerSpec layer, int[] input, int dimensions)
    {
        if (input.Length != dimensions + 1)
        {
            return Outcome.Fail(NeedsSpatial(input, dimensions));
        }
        var channels = input[0];
        var outChannels = layer.Int("outChannels");
        var groups = layer.Int("groups");
        if (channels % groups != 0 || outChannels % groups != 0)
        {
            return Outcome.Fail($"groups {groups} must divide both its input channels ({channels}) and outChannels ({outChannels}).");
        }
        var kernel = layer.Ints("kernelSize", dimensions);
        var (spatial, problem) = Slide(input[1..], kernel, layer.Ints("stride", dimensions), layer.Ints("padding", dimensions), layer.Ints("dilation", dimensions), ceil: false);
        if (problem is not null)
        {
            return Outcome.Fail(problem);
        }
        checked
        {
            var weightsPerOutput = (long)channels / groups * kernel.Aggregate(1L, (product, k) => product * k);
            var parameters = weightsPerOutput * outChannels + (layer.Bool("bias") ? outChannels : 0);
            int[] output = [outChannels, .. spatial!];
            return Outcome.Of(output, parameters, 2 * weightsPerOutput * Elements(output));
        }
    }

    private static Outcome Pooling(LayerSpec layer, int[] input, int dimensions, bool dilated)
    {
        if (input.Length != dimensions + 1)
        {
            return Outcome.Fail(NeedsSpatial(input, dimensions));
        }
        var kernel = layer.Ints("kernelSize", dimensions);
        var stride = layer.Has("stride") ? layer.Ints("stride", dimensions) : kernel;
        var dilation = dilated ? layer.Ints("dilation", dimensions) : Enumerable.Repeat(1, dimensions).ToArray();
        var (spatial, problem) = Slide(input[1..], kernel, stride, layer.Ints("padding", dimensions), dilation, layer.Bool("ceilMode"));
        if (problem is not null)
        {
            return Outcome.Fail(problem);
        }
        int[] output = [input[0], .. spatial!];
        return Outcome.Of(output, 0, checked(Elements(output) * kernel.Aggregate(1L, (product, k) => checked(product * k))));
    }

    /// <summary>
    /// Output sizes of a sliding window, as PyTorch computes them (pooling_output_shape), in 64 bits;
    /// <see cref="OverflowException"/> when a size does not fit in 32 bits.
    /// </summary>
    private static (int[]? Sizes, string? Problem) Slide(int[] sizes, int[] kernel, int[] stride, int[] padding, int[] dilation, bool ceil)
    {
        var output = new int[sizes.Length];
        for (var d = 0; d < sizes.Length; d++)
        {
            var span = (long)dilation[d] * (kernel[d] - 1) + 1;
            var padded = sizes[d] + 2L * padding[d];
            var room = padded - span;
            if (room < 0)
            {
                var what = sizes.Length == 1 ? "length" : d == 0 ? "height" : "width";
                return (null, $"has a window of {span} (kernelSize {kernel[d]}, dilation {dilation[d]}) that does not fit its input's {what} {sizes[d]} "
                    + $"(padded: {padded}); it receives {Format(sizes)} spatially — use a smaller kernel, add padding, or remove a pooling layer before it.");
            }
            var count = (ceil ? (room + stride[d] - 1) / stride[d] : room / stride[d]) + 1;
            if (ceil && (count - 1) * stride[d] >= sizes[d] + (long)padding[d])
            {
                count--;
            }
            output[d] = checked((int)count);
        }
        return (output, null);
    }

    private static Outcome AdaptivePooling(LayerSpec layer, int[] input)
    {
        if (input.Length != 3)
        {
            return Outcome.Fail(NeedsSpatial(input, 2));
        }
        int[] output = [input[0], .. layer.Ints("outputSize", 2)];
        return Outcome.Of(output, 0, Elements(input));
    }

    private static Outcome BatchNorm(LayerSpec layer, int[] input, int dimensions)
    {
        var fits = dimensions == 1 ? input.Length is 1 or 2 : input.Length == 3;
        if (!fits)
        {
            return Outcome.Fail(dimensions == 1
                ? $"needs input [C] or [C,L]; it receives {Format(input)} — use batchNorm2d for [C,H,W] images."
                : $"needs input [C,H,W]; it receives {Format(input)} — use batchNorm1d for [C] or [C,L].");
        }
        return Outcome.Of(input, layer.Bool("affine") ? 2L * input[0] : 0, checked(4 * Elements(input)));
    }

    private static Outcome LayerNorm(LayerSpec layer, int[] input)
    {
        int[] normalized = layer.Has("normalizedShape") ? layer.Ints("normalizedShape") : [input[^1]];
        if (normalized.Length > input.Length || !input.AsSpan(input.Length - normalized.Length).SequenceEqual(normalized))
        {
            return Outcome.Fail($"normalizes over the last dimensions {Format(normalized)}, but it receives {Format(input)}; "
                + $"leave normalizedShape out to normalize over the last dimension ({input[^1]}).");
        }
        var affine = layer.Bool("elementwiseAffine") ? checked(Elements(normalized) * (layer.Bool("bias") ? 2 : 1)) : 0;
        return Outcome.Of(input, affine, checked(5 * Elements(input)));
    }

    private static Outcome Flatten(LayerSpec layer, int[] input)
    {
        // startDim/endDim count the batch as dimension 0, as torch.nn.Flatten does.
        var rank = input.Length + 1;
        var start = layer.Int("startDim");
        var end = layer.Int("endDim");
        if (end < 0)
        {
            end += rank;
        }
        if (start >= rank || end < start || end >= rank)
        {
            return Outcome.Fail($"cannot flatten dimensions {start}..{layer.Int("endDim")} of an input of shape [N,{string.Join(",", input)}]; "
                + $"dimensions run from 1 to {rank - 1} (0 is the batch).");
        }
        var merged = Elements(input[(start - 1)..end]);
        if (merged > int.MaxValue)
        {
            return Outcome.Fail($"would make a dimension of {merged} elements; that is too large.");
        }
        return Outcome.Of([.. input[..(start - 1)], (int)merged, .. input[end..]], 0, 0);
    }

    private static Outcome Reshape(LayerSpec layer, int[] input)
    {
        var shape = layer.Ints("shape");
        var elements = Elements(input);
        var known = Elements([.. shape.Where(d => d != -1)]);
        if (shape.Contains(-1))
        {
            if (elements % known != 0 || elements / known > int.MaxValue)
            {
                return Outcome.Fail($"to {Format(shape)} needs a multiple of {known} elements per sample; it receives {Format(input)} ({elements} elements).");
            }
            shape = [.. shape.Select(d => d == -1 ? (int)(elements / known) : d)];
        }
        else if (known != elements)
        {
            return Outcome.Fail($"to {Format(shape)} needs {known} elements per sample; it receives {Format(input)} ({elements} elements).");
        }
        return Outcome.Of(shape, 0, 0);
    }

    private static Outcome Softmax(LayerSpec layer, int[] input)
    {
        var rank = input.Length + 1;
        var dim = layer.Int("dim");
        var normalized = dim < 0 ? dim + rank : dim;
        if (normalized == 0)
        {
            return Outcome.Fail($"dim {dim} is the batch: a softmax across samples mixes them; use dim -1 (the last dimension).");
        }
        if (normalized < 0 || normalized >= rank)
        {
            return Outcome.Fail($"dim {dim} is outside its input [N,{string.Join(",", input)}]: use 1 to {rank - 1}, or -1 to -{rank - 1} (0 is the batch).");
        }
        return Outcome.Of(input, 0, checked(3 * Elements(input)));
    }

    private static Outcome Embedding(LayerSpec layer, int[] input, bool first)
    {
        if (!first)
        {
            return Outcome.Fail("looks up token indices, so it must be the model's first layer: the dataset's features are the indices.");
        }
        var dimension = layer.Int("embeddingDim");
        return Outcome.Of([.. input, dimension], (long)layer.Int("numEmbeddings") * dimension, 0);
    }

    private static Outcome Recurrent(LayerSpec layer, int[] input, int gates)
    {
        if (input.Length != 2)
        {
            return Outcome.Fail($"needs input [L,features] (a sequence of L steps, batch first); it receives {Format(input)} — "
                + (input.Length == 1
                    ? $"add a reshape to [{input[0]},1] ({input[0]} steps of one feature) before it, or start the model with an embedding."
                    : $"add a flatten with startDim 2 before it to get [{input[0]},{Elements(input[1..])}]."));
        }
        var steps = input[0];
        var hidden = (long)layer.Int("hiddenSize");
        var directions = layer.Bool("bidirectional") ? 2 : 1;
        long parameters = 0;
        long flops = 0;
        checked
        {
            for (var stacked = 0; stacked < layer.Int("numLayers"); stacked++)
            {
                var inputs = stacked == 0 ? input[1] : directions * hidden;
                parameters += directions * (gates * hidden * (inputs + hidden) + (layer.Bool("bias") ? 2 * gates * hidden : 0));
                flops += directions * steps * 2 * gates * hidden * (inputs + hidden);
            }
        }
        var width = checked((int)(directions * hidden));
        return Outcome.Of(layer.String("output") == "last" ? [width] : [steps, width], parameters, flops);
    }

    /// <summary>"needs input [C,H,W]; it receives [784] — add a reshape to [1,28,28] before it."</summary>
    private static string NeedsSpatial(int[] input, int dimensions)
    {
        var expected = dimensions == 1 ? "[C,L]" : "[C,H,W]";
        var fix = (dimensions, input.Length) switch
        {
            (1, 1) => $"add a reshape to [1,{input[0]}] before it.",
            (1, 3) => $"add a flatten with startDim 2 before it to get [{input[0]},{Elements(input[1..])}].",
            (2, 1) => ImageReshape(input[0]),
            (2, 2) => $"add a reshape to [1,{input[0]},{input[1]}] before it.",
            _ => $"add a reshape to {expected} before it, or move it before the layer that changed the shape.",
        };
        return $"needs input {expected}; it receives {Format(input)} — {fix}";
    }

    private static string ImageReshape(int features)
    {
        foreach (var channels in new[] { 1, 3 })
        {
            var side = (int)Math.Round(Math.Sqrt(features / (double)channels));
            if (features % channels == 0 && side * side * channels == features)
            {
                return $"add a reshape to [{channels},{side},{side}] before it.";
            }
        }
        return $"add a reshape to [C,H,W] with C×H×W = {features} before it.";
    }
}
