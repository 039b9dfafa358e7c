using Experiments.Domain.Validation;

namespace Experiments.Domain.Models;

/// <summary>What one layer produces for one sample (the batch dimension is left out).</summary>
public sealed record LayerSummary(int Index, string Type, int[] OutputShape, long Parameters);

public sealed record ModelSummary(int[] InputShape, IReadOnlyList<LayerSummary> Layers, long TotalParameters)
{
    public int[] OutputShape => Layers.Count == 0 ? InputShape : Layers[^1].OutputShape;
}

/// <summary>
/// Checks a layer stack before anything runs: every type and hyperparameter against the catalog, and,
/// given the shape of one sample, every layer's output shape and parameter count — the same numbers the
/// TorchSharp module built from the stack has.
/// </summary>
public static class ModelValidator
{
    public const int MaxLayers = 256;

    /// <summary>The layers with defaults filled in, or null with the problems in <paramref name="errors"/>.</summary>
    public static IReadOnlyList<LayerSpec>? Resolve(IReadOnlyList<LayerSpec?>? layers, ValidationErrors errors, string path = "layers")
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
            var layer = LayerCatalog.Instance.Resolve(layers[index], $"{path}[{index}]", errors);
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

    /// <summary>Infers each layer's output shape for samples of <paramref name="inputShape"/>.</summary>
    public static ModelSummary? InferShapes(IReadOnlyList<LayerSpec> layers, int[] inputShape, ValidationErrors errors, string path = "layers")
    {
        var summaries = new List<LayerSummary>(layers.Count);
        var shape = inputShape;
        long total = 0;
        for (var index = 0; index < layers.Count; index++)
        {
            var layer = layers[index];
            var (output, parameters, problem) = Infer(layer, shape);
            if (problem is not null)
            {
                errors.Add($"{path}[{index}]", $"({layer.Type}) {problem}");
                return null;
            }
            summaries.Add(new LayerSummary(index, layer.Type, output!, parameters));
            total += parameters;
            shape = output!;
        }
        return new ModelSummary(inputShape, summaries, total);
    }

    public static string Format(int[] shape) => $"[{string.Join(",", shape)}]";

    private static (int[]? Output, long Parameters, string? Problem) Infer(LayerSpec layer, int[] input)
    {
        switch (layer.Type)
        {
            case "linear":
            {
                var outFeatures = layer.Int("outFeatures");
                var inFeatures = input[^1];
                var weights = (long)inFeatures * outFeatures + (layer.Bool("bias") ? outFeatures : 0);
                return ([.. input[..^1], outFeatures], weights, null);
            }
            case "relu" or "sigmoid" or "tanh" or "dropout":
                return (input, 0, null);
            case "flatten":
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
                    return (null, 0, $"cannot flatten dimensions {start}..{layer.Int("endDim")} of an input of shape [N,{string.Join(",", input)}]; "
                        + $"dimensions run from 1 to {rank - 1} (0 is the batch).");
                }
                var sampleStart = start - 1;
                var sampleEnd = end - 1;
                var merged = 1;
                for (var d = sampleStart; d <= sampleEnd; d++)
                {
                    merged *= input[d];
                }
                return ([.. input[..sampleStart], merged, .. input[(sampleEnd + 1)..]], 0, null);
            }
            default:
                return (null, 0, $"has no shape rule; this is a bug in Experiments.");
        }
    }
}
