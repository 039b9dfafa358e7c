using Experiments.Domain.Datasets;
using static TorchSharp.torch;

namespace Experiments.Training.Data;

/// <summary>Fits a dataset's <see cref="Preprocessing"/> at import; <see cref="FeaturePreprocessor"/> applies it.</summary>
public static class DatasetPreprocessing
{
    /// <summary>
    /// Completes the requested steps with what they learn from the training split: the per-feature mean and
    /// standard deviation of the scaled training features (a constant feature gets std 1, so it maps to 0).
    /// </summary>
    public static Preprocessing Fit(Preprocessing requested, double[] featureMean, double[] featureStd)
    {
        if (!requested.Standardize)
        {
            return requested with { Mean = null, Std = null };
        }
        var scale = requested.Scale ?? 1.0;
        var mean = new float[featureMean.Length];
        var std = new float[featureStd.Length];
        for (var j = 0; j < mean.Length; j++)
        {
            mean[j] = (float)(featureMean[j] * scale);
            var scaled = (float)(featureStd[j] * Math.Abs(scale));
            std[j] = scaled > 1e-12f ? scaled : 1f;
        }
        return requested with { Mean = mean, Std = std };
    }
}

/// <summary>
/// A dataset's <see cref="Preprocessing"/> on one device: turns samples as stored (uint8 or float32, [n, …stored shape])
/// into the model's inputs, float32 [n, …<see cref="SampleShape"/>]. The one function used for training and evaluation
/// batches and for prediction, so a model always sees its inputs prepared the same way: in float32, <c>x * scale</c>,
/// then <c>(x - mean[j]) / std[j]</c> per feature, each step only when set, then the view as the reshape.
/// </summary>
public sealed class FeaturePreprocessor : IDisposable
{
    private readonly float? _scale;
    private readonly Tensor? _mean;
    private readonly Tensor? _std;
    private readonly long[] _sampleShape;
    private readonly bool _reshapes;

    public FeaturePreprocessor(Preprocessing preprocessing, int[] storedShape, Device device)
    {
        var sampleSize = storedShape.Aggregate(1L, (product, dimension) => product * dimension);
        _scale = preprocessing.Scale is { } scale ? (float)scale : null;
        if (preprocessing.Standardize)
        {
            var mean = preprocessing.Mean ?? throw new InvalidOperationException("Standardize is set but no mean was fitted.");
            var std = preprocessing.Std ?? throw new InvalidOperationException("Standardize is set but no standard deviation was fitted.");
            if (mean.Length != sampleSize || std.Length != sampleSize)
            {
                throw new InvalidOperationException($"The fitted mean and std have {mean.Length} values; a sample has {sampleSize}.");
            }
            long[] shape = [.. storedShape.Select(dimension => (long)dimension)];
            _mean = ToDevice(mean, shape, device);
            _std = ToDevice(std, shape, device);
        }
        SampleShape = preprocessing.Reshape ?? storedShape;
        _sampleShape = [.. SampleShape.Select(dimension => (long)dimension)];
        _reshapes = !SampleShape.SequenceEqual(storedShape);
    }

    /// <summary>The shape the model sees one sample as.</summary>
    public int[] SampleShape { get; }

    /// <summary>
    /// <paramref name="stored"/> samples, [n, …stored shape] on this device, as the model sees them: float32 (a view of
    /// <paramref name="stored"/> when it is float32 already and nothing changes it). Call it in a dispose scope: the
    /// intermediate tensors are left to it.
    /// </summary>
    public Tensor Apply(Tensor stored)
    {
        var inputs = stored.to(ScalarType.Float32);
        if (_scale is { } scale)
        {
            inputs = inputs.mul(scale);
        }
        if (_mean is not null && _std is not null)
        {
            inputs = inputs.sub(_mean).div(_std);
        }
        return _reshapes ? inputs.reshape([stored.shape[0], .. _sampleShape]) : inputs;
    }

    public void Dispose()
    {
        _mean?.Dispose();
        _std?.Dispose();
    }

    private static Tensor ToDevice(float[] values, long[] shape, Device device)
    {
        using var host = tensor(values, shape);
        return host.to(device);
    }
}
