namespace Experiments.Domain.Workers;

/// <summary>
/// A process that trains runs (<c>Experiments:Role</c> all or worker), as it last reported itself. Its row is written
/// when it starts, touched by its heartbeat, and marked stopped when it shuts down; a row whose heartbeat stopped
/// without that is a lost worker (killed, or its machine gone).
/// </summary>
public sealed class Worker
{
    public Worker(string name, string machine, int processId, string device, int capacity, string[] queues, int torchThreads, DateTimeOffset startedAt)
    {
        Name = name;
        Machine = machine;
        ProcessId = processId;
        Device = device;
        Capacity = capacity;
        Queues = queues;
        TorchThreads = torchThreads;
        StartedAt = startedAt;
        LastHeartbeatAt = startedAt;
    }

    /// <summary>Unique per process: the lease owner of the runs it trains, and the worker of their epochs.</summary>
    public string Name { get; private set; }

    public string Machine { get; private set; }

    public int ProcessId { get; private set; }

    /// <summary><c>cpu</c>, or <c>cuda</c> with the number of GPUs it sees (<c>cuda ×2</c>).</summary>
    public string Device { get; private set; }

    /// <summary>Runs it trains at once (<c>Experiments:MaxConcurrentRuns</c>).</summary>
    public int Capacity { get; private set; }

    /// <summary>The job queues it takes runs from, in the order it serves them.</summary>
    public string[] Queues { get; private set; }

    public int TorchThreads { get; private set; }

    public DateTimeOffset StartedAt { get; private set; }

    public DateTimeOffset LastHeartbeatAt { get; private set; }

    public DateTimeOffset? StoppedAt { get; private set; }

    /// <summary>What <c>GET /api/workers</c> says of it at <paramref name="now"/>: lost once a run lease has passed without a heartbeat.</summary>
    public WorkerStatus StatusAt(DateTimeOffset now, TimeSpan lease) =>
        StoppedAt is not null ? WorkerStatus.Stopped
        : now - LastHeartbeatAt > lease ? WorkerStatus.Lost
        : WorkerStatus.Active;
}

public enum WorkerStatus
{
    /// <summary>Its heartbeat is recent: it takes queued runs.</summary>
    Active,

    /// <summary>It shut down cleanly; its runs were handed back to the queue.</summary>
    Stopped,

    /// <summary>No heartbeat for longer than a run lease: its runs are resumed by other workers.</summary>
    Lost,
}

/// <summary>A worker as <c>GET /api/workers</c> and the dashboard's Workers page show it.</summary>
public sealed record WorkerView(
    string Name,
    WorkerStatus Status,
    string Machine,
    int ProcessId,
    string Device,
    int Capacity,
    IReadOnlyList<string> Queues,
    int TorchThreads,
    IReadOnlyList<Guid> CurrentRuns,
    DateTimeOffset StartedAt,
    DateTimeOffset LastHeartbeatAt,
    DateTimeOffset? StoppedAt);

/// <summary>The worker reads the REST endpoints and the dashboard share.</summary>
public interface IWorkerQueries
{
    /// <summary>Active workers first, then by name; workers stopped or lost for more than a day are forgotten.</summary>
    Task<IReadOnlyList<WorkerView>> ListAsync(CancellationToken cancellationToken);
}
