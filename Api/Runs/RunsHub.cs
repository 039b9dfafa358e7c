using Experiments.Domain.Runs;
using Microsoft.AspNetCore.SignalR;

namespace Experiments.Api.Runs;

/// <summary>
/// Live run events (<see cref="IRunsClient"/>). A client joins one run's group (<see cref="JoinRun"/>) or the group
/// of all runs (<see cref="JoinAll"/>); every event goes to both groups.
/// </summary>
public sealed class RunsHub : Hub<IRunsClient>, IRunsHub
{
    public const string Path = IRunsHub.Path;
    public const string AllRunsGroup = "runs:all";

    public static string RunGroup(Guid runId) => $"runs:{runId:N}";

    public Task JoinRun(Guid runId) => Groups.AddToGroupAsync(Context.ConnectionId, RunGroup(runId));

    public Task LeaveRun(Guid runId) => Groups.RemoveFromGroupAsync(Context.ConnectionId, RunGroup(runId));

    public Task JoinAll() => Groups.AddToGroupAsync(Context.ConnectionId, AllRunsGroup);

    public Task LeaveAll() => Groups.RemoveFromGroupAsync(Context.ConnectionId, AllRunsGroup);
}

public static class RunsHubContextExtensions
{
    public static IRunsClient RunAndAll(this IHubContext<RunsHub, IRunsClient> hub, Guid runId) =>
        hub.Clients.Groups(RunsHub.RunGroup(runId), RunsHub.AllRunsGroup);

    /// <summary>
    /// Sends an event from a request without letting it fail or hold up the request: with the Redis backplane gone a
    /// send waits for its timeout, so the request waits at most a second, and a failure is only logged.
    /// </summary>
    public static async Task SendQuietlyAsync(this Task send, ILogger logger)
    {
        try
        {
            await send.WaitAsync(TimeSpan.FromSeconds(1));
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            logger.LogDebug(exception, "A live event was not delivered; clients catch up from REST.");
        }
    }
}
