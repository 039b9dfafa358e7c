using Experiments.Api;

namespace Experiments.Tests.Api;

public sealed class HeavyRequestsTests
{
    [Fact]
    public async Task A_request_beyond_the_limit_waits_for_a_turn_to_be_released_and_stops_waiting_when_its_client_leaves()
    {
        using var heavy = new HeavyRequests();
        var turns = new List<IDisposable>();
        for (var i = 0; i < HeavyRequests.MaxConcurrent; i++)
        {
            turns.Add((await heavy.EnterAsync(CancellationToken.None))!);
        }
        using var leaves = new CancellationTokenSource();

        var waiting = heavy.EnterAsync(CancellationToken.None);
        var gone = heavy.EnterAsync(leaves.Token);
        Assert.False(waiting.IsCompleted);
        await leaves.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => gone);
        turns[0].Dispose();
        // Released twice, a turn frees one slot only.
        turns[0].Dispose();

        var next = await waiting;
        Assert.NotNull(next);
        var third = heavy.EnterAsync(CancellationToken.None);
        Assert.False(third.IsCompleted);
        next.Dispose();
        using var last = await third;
        Assert.NotNull(last);
    }
}
