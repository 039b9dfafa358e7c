using Experiments.Domain.Datasets;
using Experiments.Training.Data.Import;

namespace Experiments.Api.Hosting;

/// <summary>The "Experiments" section of appsettings.json; each key can be overridden by an environment
/// variable such as <c>Experiments__DataFolder=/var/lib/experiments</c>.</summary>
public sealed class ExperimentsOptions
{
    public const string Section = "Experiments";

    /// <summary>Holds the SQLite databases, dataset tensors and checkpoints. Relative paths start at the working directory.</summary>
    public string DataFolder { get; set; } = "data";

    /// <summary>Training runs executed at once by this process.</summary>
    public int MaxConcurrentRuns { get; set; } = 1;

    /// <summary>How often an idle worker looks for queued runs: the longest a new run waits to start.</summary>
    public TimeSpan QueuePollInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// How long a worker owns a running run without renewing its lease. A run whose worker died is resumed
    /// by another worker (or by this service after a restart) once this has passed.
    /// </summary>
    public TimeSpan RunLeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The largest dataset upload accepted, in bytes: the whole multipart request, and everything an import may
    /// decompress (.npz entries, gzipped files). Larger uploads are refused with 413.
    /// </summary>
    public long MaxUploadBytes { get; set; } = ImportLimits.DefaultMaxBytes;

    /// <summary>The longest line of a CSV upload, in characters; a longer one is refused with 400 before it is read further.</summary>
    public int MaxCsvLineLength { get; set; } = ImportLimits.DefaultMaxCsvLineLength;

    /// <summary>The most columns of a CSV upload; more are refused with 400 before the line is cut into cells.</summary>
    public int MaxCsvColumns { get; set; } = ImportLimits.DefaultMaxCsvColumns;

    /// <summary>
    /// The most values a pickle upload may hold: the entries of its lists, tuples, dicts and sets, and the numbers its
    /// lists expand to (a list referred to many times counts each time). More are refused with 413 before they are built.
    /// </summary>
    public long MaxPickleElements { get; set; } = ImportLimits.DefaultMaxPickleElements;

    /// <summary>The limits the dataset converter applies to one import.</summary>
    public ImportLimits DatasetImportLimits() => new(MaxUploadBytes)
    {
        MaxCsvLineLength = MaxCsvLineLength,
        MaxCsvColumns = MaxCsvColumns,
        MaxPickleElements = MaxPickleElements,
    };

    public string DataFolderPath => Path.GetFullPath(DataFolder);

    /// <summary>Per-run files: checkpoint.bin and weights.bin under runs/{id}/.</summary>
    public string RunFolderPath(Guid runId) => Path.Combine(DataFolderPath, "runs", runId.ToString("N"));

    public string CheckpointPath(Guid runId) => Path.Combine(RunFolderPath(runId), "checkpoint.bin");

    public string WeightsPath(Guid runId) => Path.Combine(RunFolderPath(runId), "weights.bin");

    public string DatasetsFolderPath => Path.Combine(DataFolderPath, "datasets");

    /// <summary>The dataset's tensor file (<see cref="Training.Data.DatasetFile"/>) in the datasets folder.</summary>
    public string TensorFilePath(Dataset dataset) => Path.Combine(DatasetsFolderPath, dataset.TensorFile);

    public string DatabasePath => Path.Combine(DataFolderPath, "experiments.db");

    public string HangfireDatabasePath => Path.Combine(DataFolderPath, "hangfire.db");
}
