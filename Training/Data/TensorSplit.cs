using static TorchSharp.torch;

namespace Experiments.Training.Data;

/// <summary>
/// A split held as two tensors on the training device: features [N, …sample] and targets, either class
/// indices [N] (int64) or values [N, targetSize] (float32).
/// </summary>
public sealed class TensorSplit : IDisposable
{
    public TensorSplit(Tensor features, Tensor labels)
    {
        Features = features;
        Labels = labels;
    }

    public Tensor Features { get; }

    public Tensor Labels { get; }

    public long Count => Labels.shape[0];

    public static TensorSplit From(DatasetArrays arrays, int[] sampleShape, Device device)
    {
        long[] shape = [arrays.Count, .. sampleShape.Select(d => (long)d)];
        using var features = tensor(arrays.Features, shape);
        using var labels = arrays.Kind == TargetKind.ClassIndex
            ? tensor(arrays.Labels, [arrays.Count])
            : tensor(arrays.Values, [arrays.Count, arrays.TargetSize]);
        return new TensorSplit(features.to(device), labels.to(device));
    }

    public void Dispose()
    {
        Features.Dispose();
        Labels.Dispose();
    }
}
