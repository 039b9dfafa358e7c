namespace Experiments.Domain.Datasets;

/// <summary>The file format a dataset was imported from.</summary>
public enum DatasetFormat
{
    Csv,
    Npy,
    Npz,
    Pickle,
    Idx,
}

public enum DatasetTask
{
    /// <summary>One class index per sample; classes are named by <see cref="Dataset.ClassNames"/>.</summary>
    Classification,

    /// <summary><see cref="Dataset.TargetSize"/> real values per sample.</summary>
    Regression,
}

/// <summary>Where the test split came from.</summary>
public enum SplitSource
{
    /// <summary>The file(s) held separate train and test samples.</summary>
    File,

    /// <summary>A seeded share of the samples was held out (stratified by class for classification).</summary>
    HeldOut,
}

/// <summary>Summary statistics over every value of the training split, computed once at import.</summary>
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
        int targetSize = 1,
        FeatureStatistics? targetStatistics = null,
        string dtype = "float32",
        int[]? storedSampleShape = null,
        Preprocessing? preprocessing = null,
        SplitSource splitSource = SplitSource.HeldOut,
        double? testFraction = null,
        int? splitSeed = null,
        string fileName = "",
        long storedBytes = 0)
    {
        if (trainCount <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(trainCount), "A dataset needs training samples.");
        }
        if (task == DatasetTask.Classification && (classNames.Length == 0 || classCounts.Length != classNames.Length || targetSize != 1))
        {
            throw new ArgumentException("A classification dataset needs class names, one count per class and one target per sample.", nameof(classNames));
        }
        if (task == DatasetTask.Regression && (classNames.Length != 0 || targetSize < 1 || targetStatistics is null))
        {
            throw new ArgumentException("A regression dataset has no classes, at least one target per sample and target statistics.", nameof(task));
        }
        var stored = storedSampleShape ?? sampleShape;
        if (Product(stored) != Product(sampleShape))
        {
            throw new ArgumentException($"The sample shape [{string.Join(", ", sampleShape)}] must hold as many values as the stored shape [{string.Join(", ", stored)}].", nameof(sampleShape));
        }
        Id = id;
        Name = name;
        Format = format;
        ArgumentOutOfRangeException.ThrowIfLessThan(targetSize, 1);
        Task = task;
        SampleShape = sampleShape;
        StoredSampleShape = stored;
        Dtype = dtype;
        ClassNames = classNames;
        ClassCounts = classCounts;
        TargetSize = targetSize;
        TrainCount = trainCount;
        TestCount = testCount;
        Statistics = statistics;
        TargetStatistics = targetStatistics;
        Preprocessing = preprocessing ?? Preprocessing.None;
        SplitSource = splitSource;
        TestFraction = testFraction;
        SplitSeed = splitSeed;
        ContentHash = contentHash;
        TensorFile = tensorFile;
        FileName = fileName;
        StoredBytes = storedBytes;
        CreatedAt = createdAt;
    }

    public Guid Id { get; private set; }

    public string Name { get; private set; } = "";

    public DatasetFormat Format { get; private set; }

    public DatasetTask Task { get; private set; }

    /// <summary>Shape of one sample as the model sees it (after any reshape), e.g. [4] for Iris or [1,28,28] for MNIST.</summary>
    public int[] SampleShape { get; private set; } = [];

    /// <summary>Shape of one sample in the tensor file, as it was in the uploaded file.</summary>
    public int[] StoredSampleShape { get; private set; } = [];

    /// <summary>The element type of the uploaded features, in NumPy's names (float32, uint8, …); "text" for CSV.</summary>
    public string Dtype { get; private set; } = "float32";

    /// <summary>Class index → the label as it appeared in the file; empty for regression.</summary>
    public string[] ClassNames { get; private set; } = [];

    public int ClassCount => ClassNames.Length;

    /// <summary>Samples per class across both splits, indexed like <see cref="ClassNames"/>; empty for regression.</summary>
    public int[] ClassCounts { get; private set; } = [];

    /// <summary>Targets per sample: 1 for classification, the number of regression outputs otherwise.</summary>
    public int TargetSize { get; private set; } = 1;

    public int TrainCount { get; private set; }

    public int TestCount { get; private set; }

    /// <summary>Min, max, mean and standard deviation of the training features as imported (before preprocessing).</summary>
    public FeatureStatistics Statistics { get; private set; } = new(0, 0, 0, 0);

    /// <summary>The same over the training targets of a regression dataset; null for classification.</summary>
    public FeatureStatistics? TargetStatistics { get; private set; }

    /// <summary>Applied to the features at training and at prediction time, identically.</summary>
    public Preprocessing Preprocessing { get; private set; } = Preprocessing.None;

    public SplitSource SplitSource { get; private set; }

    /// <summary>The held-out share and its seed when <see cref="SplitSource"/> is <see cref="SplitSource.HeldOut"/>.</summary>
    public double? TestFraction { get; private set; }

    public int? SplitSeed { get; private set; }

    /// <summary>SHA-256 of the uploaded bytes and import options: the same upload maps to the same dataset.</summary>
    public string ContentHash { get; private set; } = "";

    /// <summary>File name of the tensors inside the data folder's datasets directory.</summary>
    public string TensorFile { get; private set; } = "";

    /// <summary>The uploaded file's name, as sent.</summary>
    public string FileName { get; private set; } = "";

    /// <summary>Size of the tensor file in bytes.</summary>
    public long StoredBytes { get; private set; }

    public DateTimeOffset CreatedAt { get; private set; }

    /// <summary>The name of the key that created it; null on a service without keys.</summary>
    public string? CreatedBy { get; private set; }

    /// <summary>Records who created it (at creation, before it is first saved).</summary>
    public void AttributeTo(string? createdBy) => CreatedBy = createdBy;

    private static long Product(int[] shape) => shape.Aggregate(1L, (product, dimension) => product * dimension);
}
