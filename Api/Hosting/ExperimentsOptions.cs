using Experiments.Domain.Datasets;
using Experiments.Domain.Models;
using Experiments.Domain.Runs;
using Experiments.Training.Data.Import;
using Experiments.Training.Runtime;

namespace Experiments.Api.Hosting;

/// <summary>The "Experiments" section of appsettings.json; each key can be overridden by an environment
/// variable such as <c>Experiments__DataFolder=/var/lib/experiments</c>.</summary>
public sealed class ExperimentsOptions
{
    public const string Section = "Experiments";

    /// <summary>
    /// Holds the dataset tensors and checkpoints, and the SQLite databases when <c>Experiments:Storage</c> is Sqlite (<see cref="Deployment"/>). Relative
    /// paths start at the working directory. Every node of a deployment points at the same folder (docs/deploy.md).
    /// </summary>
    public string DataFolder { get; set; } = "data";

    // Experiments:Storage, Experiments:Backplane and Experiments:Role are read once, by Deployment.Read.

    /// <summary>Training runs executed at once by this process.</summary>
    public int MaxConcurrentRuns { get; set; } = 1;

    /// <summary>
    /// The job queues this process trains from; empty means <c>training</c>, and <c>gpu</c> too when a CUDA device is
    /// present (always both for <see cref="NodeRole.All"/>, so that a lone service tells a run on a missing GPU why it failed).
    /// </summary>
    public string[] Queues { get; set; } = [];

    /// <summary>
    /// The threads libtorch uses for a run that does not set its own; 0 chooses them from the cores this process may use
    /// (<see cref="TorchThreadsPerRun"/>).
    /// </summary>
    public int TorchThreads { get; set; }

    /// <summary><see cref="TorchThreads"/> when set, else the cores this process may use less one for the host, shared among <see cref="MaxConcurrentRuns"/>.</summary>
    public int TorchThreadsPerRun => TorchThreads > 0 ? TorchThreads : TrainingThread.DefaultThreads(Environment.ProcessorCount, MaxConcurrentRuns);

    /// <summary>The threads <paramref name="spec"/> trains (and is checked) with: its own <c>threads</c>, else <see cref="TorchThreadsPerRun"/>.</summary>
    public int TorchThreadsFor(RunSpec spec) => spec.Threads ?? TorchThreadsPerRun;

    /// <summary>The name this process has in <c>GET /api/workers</c> and in the runs it trains; empty means host:process-id.</summary>
    public string WorkerName { get; set; } = "";

    /// <summary>How often a worker records that it is alive (<c>GET /api/workers</c>).</summary>
    public TimeSpan WorkerHeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How often every node looks over the running sweeps (trials to start, a sweep to end). A trial's end acts at once; this
    /// pass catches what a stopped process left undone.
    /// </summary>
    public TimeSpan SweepControlInterval { get; set; } = TimeSpan.FromSeconds(2);

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

    /// <summary>
    /// Pre-flight checks and learning-rate range tests (<c>POST /api/runs/preflight</c>, <c>/lr-range-test</c>) this process
    /// computes at once; another is answered 429 with Retry-After while they run. They train on this process's CPU or GPU,
    /// beside the runs it trains.
    /// </summary>
    public int MaxConcurrentDiagnostics { get; set; } = 1;

    /// <summary>The longest a pre-flight check or range test computes: the overfit check and the sweep stop early when it comes.</summary>
    public TimeSpan DiagnosticsTimeLimit { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The limits above as the validators take them, naming these settings; <paramref name="deviceMemoryBytes"/> when known.</summary>
    public ModelLimits Limits(long? deviceMemoryBytes = null) => new(MaxModelParameters, MaxTrainingMemoryBytes)
    {
        MaxParametersSetting = $"{Section}:{nameof(MaxModelParameters)}",
        MaxTrainingMemorySetting = $"{Section}:{nameof(MaxTrainingMemoryBytes)}",
        DeviceMemoryBytes = deviceMemoryBytes,
    };

    public string DataFolderPath => Path.GetFullPath(DataFolder);

    /// <summary>Per-run files (<see cref="DataFolderArtifacts"/>).</summary>
    public string RunsFolderPath => Path.Combine(DataFolderPath, "runs");

    /// <summary>Datasets' tensor files (<see cref="DataFolderArtifacts"/>).</summary>
    public string DatasetsFolderPath => Path.Combine(DataFolderPath, "datasets");

    public string DatabasePath => Path.Combine(DataFolderPath, "experiments.db");

    public string HangfireDatabasePath => Path.Combine(DataFolderPath, "hangfire.db");
}

/// <summary>The database engine of <c>Experiments:Storage</c>.</summary>
public enum StorageEngine
{
    /// <summary>experiments.db and hangfire.db in the data folder: one machine, nothing to install.</summary>
    Sqlite,

    /// <summary>The database of <c>ConnectionStrings:Experiments</c>; Hangfire in its schema <c>hangfire</c>.</summary>
    PostgreSql,
}

/// <summary>The SignalR backplane of <c>Experiments:Backplane</c>.</summary>
public enum BackplaneKind
{
    None,

    /// <summary>The Redis server of <c>ConnectionStrings:Redis</c>.</summary>
    Redis,
}

/// <summary>The part of the service a process plays, <c>Experiments:Role</c>.</summary>
public enum NodeRole
{
    /// <summary>REST, dashboard, hub and training in one process: the default.</summary>
    All,

    /// <summary>REST, dashboard and hub; runs are queued for workers and trained elsewhere.</summary>
    Web,

    /// <summary>Trains queued runs; serves only <c>/health</c>.</summary>
    Worker,
}

public static class NodeRoles
{
    public static bool Trains(this NodeRole role) => role is NodeRole.All or NodeRole.Worker;

    public static bool ServesWeb(this NodeRole role) => role is NodeRole.All or NodeRole.Web;
}
