using Experiments.Domain.Models;

namespace Experiments.Domain.Runs;

/// <summary>
/// <c>watch</c> in a run spec: every <see cref="Every"/> batches, counted across the run's steps (steps 50, 100, … for 50),
/// the norms, update ratio and histograms of each parameter tensor and the output statistics of each layer are recorded
/// (<c>GET /api/runs/{id}/layers</c>).
/// </summary>
public sealed record WatchSpec
{
    public const int DefaultEvery = 50;
    public const int DefaultBins = 32;
    public const int MinBins = 2;
    public const int MaxBins = 128;

    /// <summary>
    /// The most numbers one run's snapshots may hold (about 8 bytes each once stored); <see cref="RunSpecValidator"/>
    /// refuses a spec whose snapshots would hold more, naming the smallest <see cref="Every"/> that fits.
    /// </summary>
    public const long MaxValues = 2_000_000;

    /// <summary>Record every this many batches (at least 1). Default 50.</summary>
    public int? Every { get; init; }

    /// <summary>Bins of each weight and gradient histogram, 2 to 128. Default 32.</summary>
    public int? Bins { get; init; }

    /// <summary>The numbers one snapshot holds: per parameter tensor 3 norms and two histograms (bins, min and max); per layer 4 statistics.</summary>
    public static long ValuesPerSnapshot(IReadOnlyList<LayerSpec> layers, int bins) =>
        checked(ParameterTensors(layers) * (3L + 2 * (bins + 2L)) + Layers(layers) * 4L);

    /// <summary>The layers whose outputs are watched: every layer, those inside residual blocks included.</summary>
    public static int Layers(IReadOnlyList<LayerSpec> layers) =>
        layers.Sum(layer => 1 + (layer.Type == "residual" ? Layers(ModelValidator.SubLayers(layer)) : 0));

    /// <summary>The parameter tensors TorchSharp creates for <paramref name="layers"/> (resolved: every default filled in).</summary>
    public static int ParameterTensors(IReadOnlyList<LayerSpec> layers) => layers.Sum(layer => layer.Type switch
    {
        "linear" or "conv1d" or "conv2d" => layer.Bool("bias") ? 2 : 1,
        "batchNorm1d" or "batchNorm2d" => layer.Bool("affine") ? 2 : 0,
        "layerNorm" => !layer.Bool("elementwiseAffine") ? 0 : layer.Bool("bias") ? 2 : 1,
        "embedding" => 1,
        // Input and hidden weights (and their two biases) per stacked layer and direction.
        "lstm" or "gru" => layer.Int("numLayers") * (layer.Bool("bidirectional") ? 2 : 1) * (layer.Bool("bias") ? 4 : 2),
        "residual" => ParameterTensors(ModelValidator.SubLayers(layer)),
        _ => 0,
    });
}
