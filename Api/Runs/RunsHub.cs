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
}
