using System.Threading.Channels;
using Experiments.Domain.Runs;
using Experiments.Web.Services;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Experiments.Web.Live;

/// <summary>
/// A typed client of the runs hub, one per circuit (scoped). It opens one connection when a component first
/// subscribes, joins the hub groups its subscriptions need, and hands each event to the subscriptions it concerns.
/// It reconnects forever; after a reconnection it joins its groups again and tells every subscription to catch up.
/// Events are handed to the subscriptions in arrival order from a queue of their own, never from the connection's
/// receive loop: a component that waits on its circuit (which may itself be waiting for this client to leave a group,
/// while the circuit ends) must not stop the connection from reading the answer to that leave.
/// </summary>
public sealed class RunsHubClient : IRunEvents, IAsyncDisposable
{
    private static readonly TimeSpan[] RetryDelays = [TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5)];

    private readonly SelfAddress _self;
    private readonly DashboardCaller? _caller;
    private readonly ILogger<RunsHubClient> _logger;
    private readonly List<Subscription> _subscriptions = [];
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CancellationTokenSource _disposed = new();
    private readonly Channel<Func<Task>> _events = Channel.CreateUnbounded<Func<Task>>(new UnboundedChannelOptions { SingleReader = true });
    private HubConnection? _hub;
    private Task? _starting;

    public RunsHubClient(SelfAddress self, ILogger<RunsHubClient> logger, DashboardCaller? caller = null)
    {
        _self = self;
        _caller = caller;
        // Ends by itself when the client is disposed.
        _ = Task.Run(DeliverAsync);
        _logger = logger;
    }

    /// <summary>Built at the first subscription, so a page that never subscribes (prerendering) opens nothing.</summary>
    private HubConnection Connection => _hub ??= Connect();

    public async Task<IAsyncDisposable> SubscribeAsync(Guid? runId, RunEventHandlers handlers, CancellationToken cancellationToken)
    {
        var subscription = new Subscription(this, runId, handlers);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var firstOfGroup = !_subscriptions.Any(existing => existing.RunId == runId);
            lock (_subscriptions)
            {
                _subscriptions.Add(subscription);
            }
            if (Connection.State == HubConnectionState.Disconnected && _starting is null)
            {
                // Joined in StartAsync once connected, with every subscription registered by then.
                _starting = StartAsync();
            }
            else if (firstOfGroup && Connection.State == HubConnectionState.Connected)
            {
                await JoinAsync(runId, cancellationToken);
            }
        }
        finally
        {
            _gate.Release();
        }
        return subscription;
    }

    public async ValueTask DisposeAsync()
    {
        await _disposed.CancelAsync();
        _events.Writer.TryComplete();
        if (_hub is not null)
        {
            await _hub.DisposeAsync();
        }
        _disposed.Dispose();
        _gate.Dispose();
    }

    private HubConnection Connect()
    {
        var connection = new HubConnectionBuilder()
            // As the signed-in person: the hub checks their key as the REST API does.
            .WithUrl(new Uri(_self.Uri, IRunsHub.Path.TrimStart('/')), options => options.AccessTokenProvider = () => _caller?.KeyAsync() ?? Task.FromResult<string?>(null))
            .AddJsonProtocol(json => Experiments.Domain.JsonConventions.Apply(json.PayloadSerializerOptions))
            .WithAutomaticReconnect(new ForeverRetryPolicy())
            .Build();
        connection.On<RunStatusChanged>(nameof(IRunsClient.RunStatusChanged), change => Enqueue(change.RunId, handlers => handlers.StatusChanged?.Invoke(change)));
        connection.On<EpochCompleted>(nameof(IRunsClient.EpochCompleted), epoch => Enqueue(epoch.RunId, handlers => handlers.EpochCompleted?.Invoke(epoch)));
        connection.On<BatchProgress>(nameof(IRunsClient.BatchProgress), progress => Enqueue(progress.RunId, handlers => handlers.BatchProgress?.Invoke(progress)));
        connection.On<LogLineWritten>(nameof(IRunsClient.LogLine), line => Enqueue(line.RunId, handlers => handlers.LogLine?.Invoke(line)));
        connection.On<LayersWatched>(nameof(IRunsClient.LayersWatched), watched => Enqueue(watched.RunId, handlers => handlers.LayersWatched?.Invoke(watched)));
        connection.Reconnected += _ => RejoinAndCatchUpAsync();
        return connection;
    }

    /// <summary>Connects, retrying until it succeeds or the circuit ends; then joins the groups and lets everyone catch up.</summary>
    private async Task StartAsync()
    {
        try
        {
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    await Connection.StartAsync(_disposed.Token);
                    break;
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    _logger.LogWarning(exception, "The dashboard could not reach the runs hub; it tries again.");
                    await Task.Delay(RetryDelays[Math.Min(attempt + 1, RetryDelays.Length - 1)], _disposed.Token);
                }
            }
            await _gate.WaitAsync(_disposed.Token);
            try
            {
                _starting = null;
            }
            finally
            {
                _gate.Release();
            }
            await RejoinAndCatchUpAsync();
        }
        catch (OperationCanceledException) when (_disposed.IsCancellationRequested)
        {
            // The circuit ended while connecting.
        }
    }

    private async Task RejoinAndCatchUpAsync()
    {
        List<Subscription> current;
        await _gate.WaitAsync(_disposed.Token);
        try
        {
            current = [.. _subscriptions];
            foreach (var runId in current.Select(subscription => subscription.RunId).Distinct())
            {
                await JoinAsync(runId, _disposed.Token);
            }
        }
        finally
        {
            _gate.Release();
        }
        // In the event queue, after the events that arrived before the groups were joined again.
        foreach (var subscription in current)
        {
            _events.Writer.TryWrite(() => InvokeAsync(subscription.Handlers.CatchUp));
        }
    }

    private Task JoinAsync(Guid? runId, CancellationToken cancellationToken) => runId is { } id
        ? Connection.InvokeAsync(nameof(IRunsHub.JoinRun), id, cancellationToken)
        : Connection.InvokeAsync(nameof(IRunsHub.JoinAll), cancellationToken);

    private Task LeaveAsync(Guid? runId) => runId is { } id
        ? Connection.InvokeAsync(nameof(IRunsHub.LeaveRun), id)
        : Connection.InvokeAsync(nameof(IRunsHub.LeaveAll));

    private Task Enqueue(Guid runId, Func<RunEventHandlers, Task?> handle)
    {
        _events.Writer.TryWrite(() => DispatchAsync(runId, handle));
        return Task.CompletedTask;
    }

    /// <summary>Hands the queued events to the subscriptions, one after another, until the client is disposed.</summary>
    private async Task DeliverAsync()
    {
        try
        {
            await foreach (var deliver in _events.Reader.ReadAllAsync(_disposed.Token))
            {
                await deliver();
            }
        }
        catch (OperationCanceledException) when (_disposed.IsCancellationRequested)
        {
            // The circuit ended; undelivered events concern no one any more.
        }
    }

    private async Task DispatchAsync(Guid runId, Func<RunEventHandlers, Task?> handle)
    {
        Subscription[] current;
        lock (_subscriptions)
        {
            current = [.. _subscriptions.Where(subscription => subscription.RunId is null || subscription.RunId == runId)];
        }
        foreach (var subscription in current)
        {
            await InvokeAsync(() => handle(subscription.Handlers));
        }
    }

    /// <summary>A failing component must not stop the others from getting their events.</summary>
    private async Task InvokeAsync(Func<Task?>? handler)
    {
        if (handler is null)
        {
            return;
        }
        try
        {
            await (handler() ?? Task.CompletedTask);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            _logger.LogError(exception, "A dashboard component failed to handle a run event.");
        }
    }

    private async Task UnsubscribeAsync(Subscription subscription)
    {
        if (_disposed.IsCancellationRequested)
        {
            return;
        }
        await _gate.WaitAsync();
        try
        {
            lock (_subscriptions)
            {
                _subscriptions.Remove(subscription);
            }
            var lastOfGroup = !_subscriptions.Any(existing => existing.RunId == subscription.RunId);
            if (lastOfGroup && Connection.State == HubConnectionState.Connected)
            {
                await LeaveAsync(subscription.RunId);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private sealed class Subscription(RunsHubClient owner, Guid? runId, RunEventHandlers handlers) : IAsyncDisposable
    {
        public Guid? RunId { get; } = runId;

        public RunEventHandlers Handlers { get; } = handlers;

        public ValueTask DisposeAsync() => new(owner.UnsubscribeAsync(this));
    }

    private sealed class ForeverRetryPolicy : IRetryPolicy
    {
        public TimeSpan? NextRetryDelay(RetryContext retryContext) => RetryDelays[Math.Min(retryContext.PreviousRetryCount, RetryDelays.Length - 1)];
    }
}
