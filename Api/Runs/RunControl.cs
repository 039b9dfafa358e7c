using System.Collections.Concurrent;
using Experiments.Api.Hosting;
using Microsoft.Extensions.Options;

namespace Experiments.Api.Runs;

/// <summary>This process's identity as a training worker: the owner written into the leases it takes.</summary>
public sealed class WorkerIdentity(IOptions<ExperimentsOptions> options)
{
    /// <summary>
    /// <c>Experiments:WorkerName</c> (else host:process-id) and a random suffix: unique even for two processes given one
    /// name, or two containers that are both process 1 — it owns the leases of the runs this process trains.
    /// </summary>
    public string Id { get; } = $"{(string.IsNullOrWhiteSpace(options.Value.WorkerName) ? $"{Environment.MachineName}:{Environment.ProcessId}" : options.Value.WorkerName.Trim())}"
        + $":{Guid.NewGuid().ToString("N")[..8]}";
}

/// <summary>Why a worker stopped training before the run finished.</summary>
public enum InterruptReason
{
    None,
    CancelledByUser,
    LeaseLost,

    /// <summary>The run's sweep stopped the trial early (it succeeds, pruned).</summary>
    Pruned,
}

/// <summary>The runs this process is training, so a cancel request reaches the training loop within one batch.</summary>
public sealed class RunCancellations
{
    private readonly ConcurrentDictionary<Guid, Control> _running = new();

    public Control Register(Guid runId, CancellationToken stopping)
    {
        var control = new Control(CancellationTokenSource.CreateLinkedTokenSource(stopping));
        _running[runId] = control;
        return control;
    }

    public void Unregister(Guid runId, Control control)
    {
        _running.TryRemove(new KeyValuePair<Guid, Control>(runId, control));
        control.Source.Dispose();
    }

    /// <summary>Stops the run's training loop if this process trains it.</summary>
    public void Cancel(Guid runId)
    {
        if (_running.TryGetValue(runId, out var control))
        {
            control.Interrupt(InterruptReason.CancelledByUser);
        }
    }

    public sealed class Control(CancellationTokenSource source)
    {
        private int _reason;

        public CancellationTokenSource Source { get; } = source;

        public InterruptReason Reason => (InterruptReason)Volatile.Read(ref _reason);

        public void Interrupt(InterruptReason reason)
        {
            Interlocked.CompareExchange(ref _reason, (int)reason, (int)InterruptReason.None);
            try
            {
                Source.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The run ended while the request was on its way.
            }
        }
    }
}
