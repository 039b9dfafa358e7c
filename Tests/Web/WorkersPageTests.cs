using Bunit;
using Experiments.Domain.Workers;
using Experiments.Web.Live;
using WorkersPage = Experiments.Web.Components.Pages.Workers;

namespace Experiments.Tests.Web;

public sealed class WorkersPageTests : DashboardContext
{
    [Fact]
    public void Each_worker_is_a_row_with_its_status_load_queues_heartbeat_and_links_to_its_current_runs()
    {
        var now = Time.GetUtcNow();
        var first = Guid.NewGuid();
        var second = Guid.NewGuid();
        Workers.Items.Add(Samples.Worker("worker-b:1a2b3c4d", WorkerStatus.Active, now - TimeSpan.FromSeconds(3), first, second));
        Workers.Items.Add(Samples.Worker("worker-a:5e6f7a8b", WorkerStatus.Lost, now - TimeSpan.FromMinutes(4)));

        var page = Render<WorkersPage>();

        var rows = page.FindAll("#workers tbody tr");
        Assert.Equal(["worker-b:1a2b3c4d", "worker-a:5e6f7a8b"], rows.Select(row => row.GetAttribute("data-worker")));
        Assert.Equal(["active", "lost"], rows.Select(row => row.QuerySelector(".badge")!.GetAttribute("data-status")));
        Assert.Equal("2/2", rows[0].QuerySelector(".capacity")!.TextContent.Trim());
        Assert.Equal("0/2", rows[1].QuerySelector(".capacity")!.TextContent.Trim());
        Assert.Equal("3 s ago", rows[0].QuerySelector(".heartbeat")!.TextContent.Trim());
        Assert.Equal("4 min ago", rows[1].QuerySelector(".heartbeat")!.TextContent.Trim());
        Assert.Contains("gpu, training", rows[0].TextContent, StringComparison.Ordinal);
        Assert.Contains("gpu-box-1", rows[0].TextContent, StringComparison.Ordinal);
        Assert.Equal([$"/runs/{first}", $"/runs/{second}"], rows[0].QuerySelectorAll(".current-runs a").Select(link => link.GetAttribute("href")));
        Assert.Equal("none", rows[1].QuerySelector(".current-runs")!.TextContent.Trim());
        Assert.Empty(page.FindAll("#no-workers"));
    }

    [Fact]
    public void Without_workers_it_says_what_a_worker_is_and_how_to_start_one()
    {
        var page = Render<WorkersPage>();

        var empty = page.Find("#no-workers").TextContent;
        Assert.Contains("process that trains runs", empty, StringComparison.Ordinal);
        Assert.Contains("dotnet run --project Api -- --Experiments:Role=worker", empty, StringComparison.Ordinal);
        Assert.Contains("docs/deploy.md", empty, StringComparison.Ordinal);
        Assert.Empty(page.FindAll("#workers"));
    }

    [Fact]
    public async Task The_list_is_read_again_every_five_seconds_until_the_page_is_left()
    {
        var page = Render<WorkersPage>();
        Assert.Equal(1, Workers.Lists);

        Workers.Items.Add(Samples.Worker("worker-a:5e6f7a8b", WorkerStatus.Active, Time.GetUtcNow()));
        await AdvanceAsync(QuietRefresh.DefaultInterval - TimeSpan.FromMilliseconds(1));
        Assert.Equal(1, Workers.Lists);
        await AdvanceAsync(TimeSpan.FromMilliseconds(1));
        Assert.Single(page.FindAll("#workers tbody tr"));
        Assert.Equal("5 s ago", page.Find(".heartbeat").TextContent.Trim());
        await AdvanceAsync(QuietRefresh.DefaultInterval);
        Assert.Equal(3, Workers.Lists);
        Assert.Equal("10 s ago", page.Find(".heartbeat").TextContent.Trim());

        await DisposeComponentsAsync();
        await AdvanceAsync(QuietRefresh.DefaultInterval * 3);

        Assert.Equal(3, Workers.Lists);
    }

    [Fact]
    public async Task A_read_that_fails_keeps_what_is_shown_and_is_tried_again_an_interval_later()
    {
        Workers.Items.Add(Samples.Worker("worker-a:5e6f7a8b", WorkerStatus.Active, Time.GetUtcNow()));
        var page = Render<WorkersPage>();

        Workers.FailNext = new InvalidOperationException("the database cannot be reached");
        await AdvanceAsync(QuietRefresh.DefaultInterval);
        Assert.Equal(2, Workers.Lists);
        Assert.Single(page.FindAll("#workers tbody tr"));

        Workers.Items.Add(Samples.Worker("worker-b:1a2b3c4d", WorkerStatus.Active, Time.GetUtcNow()));
        await AdvanceAsync(QuietRefresh.DefaultInterval);
        Assert.Equal(2, page.FindAll("#workers tbody tr").Count);
    }
}
