using Experiments.Domain.Datasets;

namespace Experiments.Training.Data;

/// <summary>A dataset as read from its file: sample shape, class count (0 for regression) and the two splits.</summary>
public sealed record LoadedDataset(int[] SampleShape, DatasetArrays Train, DatasetArrays Test)
{
    public int ClassCount { get; init; }

    /// <summary>
    /// Reads a dataset's tensor file and applies its preprocessing: both splits as the model sees them, for
    /// training and for evaluation alike.
    /// </summary>
    public static LoadedDataset Read(Dataset dataset, string tensorPath)
    {
        var (storedShape, train, test) = DatasetFile.Read(tensorPath);
        return DatasetPreprocessing.Apply(dataset.Preprocessing, new LoadedDataset(storedShape, train, test)) with { ClassCount = dataset.ClassCount };
    }
}
