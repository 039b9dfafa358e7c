using Experiments.Domain.Datasets;

namespace Experiments.Training.Data;

/// <summary>
/// Applies a dataset's <see cref="Preprocessing"/> to features: the one function used at training time and at
/// prediction time, so a model always sees its inputs prepared the same way.
/// </summary>
public static class DatasetPreprocessing
{
    /// <summary>Scales and standardizes both splits in place and gives them the model's sample shape.</summary>
    public static LoadedDataset Apply(Preprocessing preprocessing, LoadedDataset data)
    {
        var shape = Apply(preprocessing, data.Train.Features, data.SampleShape);
        Apply(preprocessing, data.Test.Features, data.SampleShape);
        return data with { SampleShape = shape };
    }

    /// <summary>
    /// Scales and standardizes <paramref name="features"/> (any number of samples of <paramref name="storedShape"/>,
    /// row-major) in place; returns the shape the model sees one sample as.
    /// </summary>
    public static int[] Apply(Preprocessing preprocessing, Span<float> features, int[] storedShape)
    {
        var sampleSize = checked((int)storedShape.Aggregate(1L, (product, dimension) => product * dimension));
        if (features.Length % sampleSize != 0)
        {
            throw new ArgumentException($"{features.Length} values are not a whole number of samples of {sampleSize} values.", nameof(features));
        }
        if (preprocessing.Scale is { } scale)
        {
            var factor = (float)scale;
            for (var i = 0; i < features.Length; i++)
            {
                features[i] *= factor;
            }
        }
        if (preprocessing.Standardize)
        {
            var mean = preprocessing.Mean ?? throw new InvalidOperationException("Standardize is set but no mean was fitted.");
            var std = preprocessing.Std ?? throw new InvalidOperationException("Standardize is set but no standard deviation was fitted.");
            if (mean.Length != sampleSize || std.Length != sampleSize)
            {
                throw new InvalidOperationException($"The fitted mean and std have {mean.Length} values; a sample has {sampleSize}.");
            }
            for (var start = 0; start < features.Length; start += sampleSize)
            {
                var sample = features.Slice(start, sampleSize);
                for (var j = 0; j < sampleSize; j++)
                {
                    sample[j] = (sample[j] - mean[j]) / std[j];
                }
            }
        }
        return preprocessing.Reshape ?? storedShape;
    }

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
