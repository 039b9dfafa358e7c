using Experiments.Domain.Datasets;

namespace Experiments.Training.Data;

/// <summary>A dataset as read from its file: sample shape, class count (0 for regression) and the two splits.</summary>
public sealed record LoadedDataset(int[] SampleShape, DatasetArrays Train, DatasetArrays Test)
{
    public int ClassCount { get; init; }

    /// <summary>The samples held out of the training split for validation; null when the run holds none out.</summary>
    public DatasetArrays? Validation { get; init; }

    /// <summary>Holds <paramref name="fraction"/> of the training split out for validation (<see cref="ValidationSplit"/>); null keeps it whole.</summary>
    public LoadedDataset HoldOut(double? fraction, long seed)
    {
        if (fraction is not { } held)
        {
            return this;
        }
        var (train, validation) = ValidationSplit.Apply(Train, held, seed);
        return this with { Train = train, Validation = validation };
    }

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
