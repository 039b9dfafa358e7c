using Experiments.Domain.Datasets;
using Experiments.Domain.Models;
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

    /// <summary>
    /// How long a file in the data folder that no row points to (an import's scratch file, a partly written tensor
    /// file, a deleted run's folder) is left alone before <c>DataFolderSweep</c> removes it: longer than any import
    /// in progress writes nothing, so a live import, here or on another process sharing the folder, is never touched.
    /// </summary>
    public TimeSpan OrphanGracePeriod { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The most learnable parameters a model may have. Checked when a model is validated, when it is saved with an
    /// input shape, and when a run is created; over it, 400 stating the count and this setting.
    /// </summary>
    public long MaxModelParameters { get; set; } = 1_000_000_000;

    /// <summary>
    /// The most memory, in bytes, one training step may need by the estimate (<see cref="TrainingEstimate"/>: weights,
    /// gradients and Adam's two moments, plus every layer's activations and their gradients for one batch, all float32).
    /// Checked when a run is created, together with this machine's memory for a run on the CPU; over either, 400
    /// stating the estimate, the limit and this setting.
    /// </summary>
    public long MaxTrainingMemoryBytes { get; set; } = 64L << 30;

    /// <summary>The limits above as the validators take them, naming these settings; <paramref name="deviceMemoryBytes"/> when known.</summary>
    public ModelLimits Limits(long? deviceMemoryBytes = null) => new(MaxModelParameters, MaxTrainingMemoryBytes)
    {
        MaxParametersSetting = $"{Section}:{nameof(MaxModelParameters)}",
        MaxTrainingMemorySetting = $"{Section}:{nameof(MaxTrainingMemoryBytes)}",
        DeviceMemoryBytes = deviceMemoryBytes,
    };

    public string DataFolderPath => Path.GetFullPath(DataFolder);

    public string RunsFolderPath => Path.Combine(DataFolderPath, "runs");

    /// <summary>Per-run files: checkpoint.bin and weights.bin under runs/{id}/.</summary>
    public string RunFolderPath(Guid runId) => Path.Combine(RunsFolderPath, runId.ToString("N"));

    public string CheckpointPath(Guid runId) => Path.Combine(RunFolderPath(runId), "checkpoint.bin");

    public string WeightsPath(Guid runId) => Path.Combine(RunFolderPath(runId), "weights.bin");

    public string DatasetsFolderPath => Path.Combine(DataFolderPath, "datasets");

    /// <summary>The dataset's tensor file (<see cref="Training.Data.DatasetFile"/>) in the datasets folder.</summary>
    public string TensorFilePath(Dataset dataset) => Path.Combine(DatasetsFolderPath, dataset.TensorFile);

    public string DatabasePath => Path.Combine(DataFolderPath, "experiments.db");

    public string HangfireDatabasePath => Path.Combine(DataFolderPath, "hangfire.db");
}
