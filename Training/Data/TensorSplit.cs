using Experiments.Domain.Datasets;
using static TorchSharp.torch;

namespace Experiments.Training.Data;

/// <summary>
/// A split held on the training device as the dataset file stores it: features [N, …stored sample] in the stored type
/// (uint8 for images, a quarter of float32's size, or float32) and targets, either class indices [N] (int64) or values
/// [N, targetSize] (float32). Its batches come out as the model sees them: gathered as stored, then converted and
/// preprocessed on the device by the dataset's <see cref="FeaturePreprocessor"/>, so no float32 copy of the whole split exists.
/// </summary>
public sealed class TensorSplit : IDisposable
{
    private readonly FeaturePreprocessor _preprocessor;

    private TensorSplit(Tensor features, Tensor labels, FeaturePreprocessor preprocessor)
    {
        Features = features;
        Labels = labels;
        _preprocessor = preprocessor;
    }

    /// <summary>The samples as stored, before preprocessing.</summary>
    public Tensor Features { get; }

    public Tensor Labels { get; }

    public long Count => Labels.shape[0];

    /// <summary>The shape the model sees one sample as.</summary>
    public int[] SampleShape => _preprocessor.SampleShape;

    /// <summary>
    /// The split on <paramref name="device"/>, its samples of <paramref name="storedShape"/> to be prepared with
    /// <paramref name="preprocessing"/>. On the CPU the features tensor shares the arrays' memory instead of copying it.
    /// </summary>
    public static TensorSplit From(DatasetArrays arrays, int[] storedShape, Preprocessing preprocessing, Device device)
    {
        long[] shape = [arrays.Count, .. storedShape.Select(d => (long)d)];
        using var stored = arrays.Features.Type == FeatureType.UInt8 ? from_array(arrays.Features.Bytes) : from_array(arrays.Features.Floats);
        using var features = stored.reshape(shape);
        using var labels = arrays.Kind == TargetKind.ClassIndex
            ? tensor(arrays.Labels, [arrays.Count])
            : tensor(arrays.Values, [arrays.Count, arrays.TargetSize]);
        return new TensorSplit(features.to(device), labels.to(device), new FeaturePreprocessor(preprocessing, storedShape, device));
    }

    /// <summary>The samples at <paramref name="indices"/> (int64 on the split's device) as the model sees them, and their targets, in the caller's dispose scope.</summary>
    public (Tensor Inputs, Tensor Targets) Gather(Tensor indices)
    {
        using var scope = NewDisposeScope();
        var inputs = _preprocessor.Apply(Features.index_select(0, indices));
        var targets = Labels.index_select(0, indices);
        return (inputs.MoveToOuterDisposeScope(), targets.MoveToOuterDisposeScope());
    }

    /// <summary>Samples <paramref name="start"/> to <paramref name="start"/> + <paramref name="count"/> as the model sees them, and their targets, in the caller's dispose scope.</summary>
    public (Tensor Inputs, Tensor Targets) Slice(long start, long count)
    {
        using var scope = NewDisposeScope();
        var inputs = _preprocessor.Apply(Features.narrow(0, start, count));
        var targets = Labels.narrow(0, start, count);
        return (inputs.MoveToOuterDisposeScope(), targets.MoveToOuterDisposeScope());
    }

    public void Dispose()
    {
        Features.Dispose();
        Labels.Dispose();
        _preprocessor.Dispose();
    }
}
