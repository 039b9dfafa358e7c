namespace Experiments.Domain.Datasets;

/// <summary>The first samples of a split: their features (or, for images, a PNG) and their label.</summary>
public sealed record DatasetPreview(Guid DatasetId, string Split, int[] SampleShape, bool Images, IReadOnlyList<PreviewSample> Samples);

/// <summary>
/// One sample: <see cref="Label"/> is the class name (classification) and <see cref="Target"/> the values
/// (regression); <see cref="Features"/> holds the first 100 values as stored, <see cref="Png"/> a data URL of the
/// sample drawn as a grayscale or RGB image.
/// </summary>
public sealed record PreviewSample(int Index, string? Label, float[]? Target, float[]? Features, string? Png);
