namespace Experiments.Domain.Datasets;

public enum DatasetFormat
{
    Csv,
}

public enum DatasetTask
{
    Classification,
    Regression,
}

/// <summary>Summary statistics of the training features, computed once at import.</summary>
public sealed record FeatureStatistics(double Min, double Max, double Mean, double Std);

/// <summary>
/// An imported dataset. Its samples live in a tensor file in the data folder (<see cref="TensorFile"/>);
/// this row describes them. Immutable once imported.
/// </summary>
public sealed class Dataset
{
    private Dataset()
    {
    }

    public Dataset(
        Guid id,
        string name,
        DatasetFormat format,
        int[] sampleShape,
        string[] classNames,
        int[] classCounts,
        int trainCount,
        int testCount,
        FeatureStatistics statistics,
        string contentHash,
        string tensorFile,
        DateTimeOffset createdAt,
        DatasetTask task = DatasetTask.Classification,
        int targetSize = 1)
    {
        if (trainCount <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(trainCount), "A dataset needs training samples.");
        }
        Id = id;
        Name = name;
        Format = format;
        ArgumentOutOfRangeException.ThrowIfLessThan(targetSize, 1);
        Task = task;
        TargetSize = targetSize;
        SampleShape = sampleShape;
        ClassNames = classNames;
        ClassCounts = classCounts;
        TrainCount = trainCount;
        TestCount = testCount;
        Statistics = statistics;
        ContentHash = contentHash;
        TensorFile = tensorFile;
        CreatedAt = createdAt;
    }

    public Guid Id { get; private set; }

    public string Name { get; private set; } = "";

    public DatasetFormat Format { get; private set; }

    public DatasetTask Task { get; private set; }

    /// <summary>Regression: target values per sample (1 for a single value); classification: 1.</summary>
    public int TargetSize { get; private set; } = 1;

    /// <summary>Shape of one sample's features, e.g. [4] for Iris or [1,28,28] for MNIST.</summary>
    public int[] SampleShape { get; private set; } = [];

    /// <summary>Class index → the label as it appeared in the file.</summary>
    public string[] ClassNames { get; private set; } = [];

    public int ClassCount => ClassNames.Length;

    /// <summary>Samples per class across both splits, indexed like <see cref="ClassNames"/>.</summary>
    public int[] ClassCounts { get; private set; } = [];

    public int TrainCount { get; private set; }

    public int TestCount { get; private set; }

    public FeatureStatistics Statistics { get; private set; } = new(0, 0, 0, 0);

    /// <summary>SHA-256 of the uploaded bytes and import options: the same upload maps to the same dataset.</summary>
    public string ContentHash { get; private set; } = "";

    /// <summary>File name of the tensors inside the data folder's datasets directory.</summary>
    public string TensorFile { get; private set; } = "";

    public DateTimeOffset CreatedAt { get; private set; }
}
