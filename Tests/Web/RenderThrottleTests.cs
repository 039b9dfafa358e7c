using Experiments.Web.Live;
using Microsoft.Extensions.Time.Testing;

namespace Experiments.Tests.Web;

public sealed class RenderThrottleTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);
    private readonly FakeTimeProvider _time = new();
    private int _renders;

    [Fact]
    public async Task A_burst_renders_at_once_then_once_at_the_end_of_the_interval()
    {
        var throttle = new RenderThrottle(Interval, _time);

        throttle.Request(Render, CancellationToken.None);
        for (var i = 0; i < 10; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(20));
            throttle.Request(Render, CancellationToken.None);
        }

        Assert.Equal(1, _renders);
        _time.Advance(TimeSpan.FromMilliseconds(49));
        Assert.Equal(1, _renders);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        await throttle.Pending;
        Assert.Equal(2, _renders);
    }

    [Fact]
    public void After_a_quiet_interval_a_request_renders_at_once()
    {
        var throttle = new RenderThrottle(Interval, _time);
        throttle.Request(Render, CancellationToken.None);

        _time.Advance(Interval);
        throttle.Request(Render, CancellationToken.None);

        Assert.Equal(2, _renders);
        Assert.True(throttle.Pending.IsCompleted);
    }

    [Fact]
    public async Task A_render_for_another_reason_counts_and_the_next_request_waits_an_interval_from_it()
    {
        var throttle = new RenderThrottle(Interval, _time);

        // An epoch was rendered at once; the batch progress right after it waits.
        throttle.Rendered();
        _time.Advance(TimeSpan.FromMilliseconds(100));
        throttle.Request(Render, CancellationToken.None);
        Assert.Equal(0, _renders);

        _time.Advance(TimeSpan.FromMilliseconds(150));
        await throttle.Pending;
        Assert.Equal(1, _renders);
    }

    [Fact]
    public async Task Once_the_component_is_gone_a_waiting_render_is_dropped()
    {
        var throttle = new RenderThrottle(Interval, _time);
        using var gone = new CancellationTokenSource();
        throttle.Rendered();
        throttle.Request(Render, gone.Token);

        await gone.CancelAsync();
        _time.Advance(Interval);
        await throttle.Pending;

        Assert.Equal(0, _renders);
    }

    private void Render() => _renders++;
}
