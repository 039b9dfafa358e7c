using System.Collections.Concurrent;
using System.Diagnostics;
using Experiments.Domain.Runs;
using Microsoft.AspNetCore.SignalR.Client;

namespace Experiments.Bench;

/// <summary>
/// SignalR clients of one service that joined every run, recording for each EpochCompleted how long after its
/// <see cref="EpochCompleted.PublishedAt"/> it arrived. The service runs on this machine, so the two clocks are one.
/// </summary>
public sealed class EpochLatencies : IAsyncDisposable
{
    private static readonly TimeSpan StragglerLimit = TimeSpan.FromSeconds(10);

    private readonly List<HubConnection> _connections;
    private readonly ConcurrentQueue<Delivery> _received = new();

    private EpochLatencies(List<HubConnection> connections) => _connections = connections;

    /// <summary>One EpochCompleted at one client: when the trainer's process published it, and published → received.</summary>
    public sealed record Delivery(Guid RunId, int Epoch, DateTimeOffset PublishedAt, double Milliseconds);

    public static async Task<EpochLatencies> ConnectAsync(Uri service, int clients)
    {
        var latencies = new EpochLatencies([]);
        for (var i = 0; i < clients; i++)
        {
            var connection = ServiceClient.Connect(service);
            connection.On<EpochCompleted>("EpochCompleted", e =>
                latencies._received.Enqueue(new Delivery(e.RunId, e.Metric.Epoch, e.PublishedAt, (DateTimeOffset.UtcNow - e.PublishedAt).TotalMilliseconds)));
            await connection.StartAsync();
            await connection.InvokeAsync("JoinAll");
            latencies._connections.Add(connection);
        }
        return latencies;
    }

    /// <summary>
    /// Creates a run through <paramref name="service"/>, waits until it succeeded and every client received each of its
    /// epochs (or <see cref="StragglerLimit"/> passed), and answers those deliveries.
    /// </summary>
    public async Task<List<Delivery>> OfRunAsync(ServiceClient service, object spec)
    {
        var created = await service.CreateRunAsync(spec);
        var finished = await service.WaitUntilFinishedAsync(created.Id);
        var expected = finished.EpochsCompleted * _connections.Count;
        var waited = Stopwatch.StartNew();
        while (Of(created.Id).Count < expected && waited.Elapsed < StragglerLimit)
        {
            await Task.Delay(50);
        }
        return Of(created.Id);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var connection in _connections)
        {
            await connection.DisposeAsync();
        }
    }

    private List<Delivery> Of(Guid runId) => [.. _received.Where(delivery => delivery.RunId == runId)];
}
