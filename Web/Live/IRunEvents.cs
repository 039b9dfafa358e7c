using Experiments.Domain.Runs;

namespace Experiments.Web.Live;

/// <summary>
/// What a component does with live run events. Every handler is optional. <see cref="CatchUp"/> runs each time the
/// subscription's hub group is (re)joined: after the connection first opens and after every reconnection. Events sent
/// before that moment never arrive, so the component reads again what it shows (through the same queries the REST API
/// answers from) and merges it with what it has.
/// </summary>
public sealed class RunEventHandlers
{
    public Func<RunStatusChanged, Task>? StatusChanged { get; init; }

    public Func<EpochCompleted, Task>? EpochCompleted { get; init; }

    public Func<BatchProgress, Task>? BatchProgress { get; init; }

    public Func<LogLineWritten, Task>? LogLine { get; init; }

    /// <summary>A snapshot of a run with <c>watch</c>; pushed to the run's own group only, so a subscription to all runs never hears it.</summary>
    public Func<LayersWatched, Task>? LayersWatched { get; init; }

    public Func<Task>? CatchUp { get; init; }
}

/// <summary>Live events of one run, or of all runs, for the components of one circuit.</summary>
public interface IRunEvents
{
    /// <summary>Events of run <paramref name="runId"/>, or of every run when it is null, until the subscription is disposed.</summary>
    Task<IAsyncDisposable> SubscribeAsync(Guid? runId, RunEventHandlers handlers, CancellationToken cancellationToken);
}
