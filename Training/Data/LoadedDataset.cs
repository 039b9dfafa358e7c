using Experiments.Domain.Datasets;

namespace Experiments.Training.Data;

/// <summary>
/// A dataset as read from its file: the two splits as stored (bytes stay bytes), the sample shape they are stored in, the
/// preprocessing that prepares each batch for the model (<see cref="TensorSplit"/>), and the class count (0 for regression).
/// </summary>
public sealed record LoadedDataset(int[] StoredShape, DatasetArrays Train, DatasetArrays Test)
{
    public Preprocessing Preprocessing { get; init; } = Preprocessing.None;

    /// <summary>The shape the model sees one sample as: the preprocessing's reshape, else the stored shape.</summary>
    public int[] SampleShape => Preprocessing.Reshape ?? StoredShape;

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

    /// <summary>Reads a dataset's tensor file: both splits as stored, with the dataset's preprocessing and class count.</summary>
    public static LoadedDataset Read(Dataset dataset, string tensorPath)
    {
        var (storedShape, train, test) = DatasetFile.Read(tensorPath);
        return new LoadedDataset(storedShape, train, test) { Preprocessing = dataset.Preprocessing, ClassCount = dataset.ClassCount };
    }
}
