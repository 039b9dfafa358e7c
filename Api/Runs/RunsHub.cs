using Experiments.Domain.Runs;
using Microsoft.AspNetCore.SignalR;

namespace Experiments.Api.Runs;

/// <summary>What the server pushes to clients of <c>/hubs/runs</c>.</summary>
public interface IRunsClient
{
    Task RunStatusChanged(RunStatusChanged change);

    Task EpochCompleted(EpochCompleted epoch);

    Task BatchProgress(BatchProgress progress);

    Task LogLine(LogLineWritten line);
}

/// <summary>
/// Live run events. A client joins one run's group (<see cref="JoinRun"/>) or the group of all runs
/// (<see cref="JoinAll"/>); every event goes to both groups.
/// </summary>
public sealed class RunsHub : Hub<IRunsClient>
{
    public const string Path = "/hubs/runs";
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
}
