using Bunit;
using Experiments.Domain.Runs;
using Experiments.Web.Live;
using Microsoft.Extensions.DependencyInjection;
using RunsPage = Experiments.Web.Components.Pages.Runs;

namespace Experiments.Tests.Web;

public sealed class RunsPageTests : DashboardContext
{
    [Fact]
    public void Shows_one_page_of_many_runs_asked_of_the_shared_query()
    {
        for (var i = 0; i < 120; i++)
        {
            Runs.Items.Add(Samples.ListItem(RunStatus.Succeeded, 10));
        }

        var page = Render<RunsPage>();

        Assert.Equal(RunsPage.PageSize, page.FindAll("table.runs tbody tr").Count);
        Assert.Contains("1 – 50 of 120 runs", page.Find(".pager").TextContent, StringComparison.Ordinal);
        Assert.Equal((RunFilter.Newest, 1, RunsPage.PageSize), Runs.Listed[^1]);
        Assert.Equal([null], Events.Subscribed);
    }

    [Fact]
    public void Filtering_and_sorting_go_to_the_query_and_back_to_the_first_page()
    {
        for (var i = 0; i < 60; i++)
        {
            Runs.Items.Add(Samples.ListItem(i % 2 == 0 ? RunStatus.Queued : RunStatus.Succeeded));
        }
        var page = Render<RunsPage>();
        page.Find("#next-page").Click();
        Assert.Equal(2, Runs.Listed[^1].Page);

        page.Find("#filter-status").Change("Queued");
        page.FindAll("button.sort").First(button => button.TextContent.Contains("Best", StringComparison.Ordinal)).Click();

        var (filter, number, _) = Runs.Listed[^1];
        Assert.Equal(1, number);
        Assert.Equal(new RunFilter(Status: RunStatus.Queued, Sort: RunSort.BestTestAccuracy, Descending: true), filter);
        Assert.All(page.FindAll("table.runs tbody .badge"), badge => Assert.Equal("queued", badge.GetAttribute("data-status")));
    }

    [Fact]
    public async Task A_finished_epoch_updates_its_row_in_place()
    {
        var run = Samples.ListItem(RunStatus.Running, 2);
        var (page, queries) = RenderListing(run);

        await page.InvokeAsync(() => Events.EpochAsync(run.Id, Samples.Epoch(3, testAccuracy: 0.9)));

        var row = page.Find($"tr[data-run='{run.Id}']");
        Assert.Contains("3/10", row.TextContent, StringComparison.Ordinal);
        Assert.Contains("90.0 %", row.TextContent, StringComparison.Ordinal);
        Assert.Equal(queries, Runs.Listed.Count);
    }

    [Fact]
    public async Task Status_changes_are_handled_without_holding_up_later_events_and_reload_the_page_once()
    {
        var run = Samples.ListItem(RunStatus.Queued, 0);
        var (page, queries) = RenderListing(run);

        // The hub client hands events over one at a time: each handler must return at once.
        var statuses = page.InvokeAsync(async () =>
        {
            await Events.StatusAsync(run.Id, RunStatus.Running);
            await Events.StatusAsync(run.Id, RunStatus.Running);
        });
        Assert.True(statuses.IsCompleted, "a status handler waited");
        await statuses;

        page.WaitForAssertion(() => Assert.Equal(queries + 1, Runs.Listed.Count), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Without_live_events_the_page_is_read_again_every_five_seconds_while_a_run_shown_is_unfinished()
    {
        var run = Samples.ListItem(RunStatus.Running, 2);
        var (page, queries) = RenderListing(run);

        // Trained by another process whose events no longer reach this one: nothing is pushed.
        await AdvanceAsync(QuietRefresh.DefaultInterval - TimeSpan.FromMilliseconds(1));
        Assert.Equal(queries, Runs.Listed.Count);
        await AdvanceAsync(TimeSpan.FromMilliseconds(1));
        Assert.Equal(queries + 1, Runs.Listed.Count);

        // An event resets the wait.
        await AdvanceAsync(QuietRefresh.DefaultInterval - TimeSpan.FromSeconds(1));
        await page.InvokeAsync(() => Events.EpochAsync(run.Id, Samples.Epoch(3)));
        await AdvanceAsync(TimeSpan.FromSeconds(2));
        Assert.Equal(queries + 1, Runs.Listed.Count);
        await AdvanceAsync(QuietRefresh.DefaultInterval);
        Assert.Equal(queries + 2, Runs.Listed.Count);
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll($"tr[data-run='{run.Id}']")));
    }

    [Fact]
    public async Task With_every_run_shown_finished_nothing_is_read_again()
    {
        var (_, queries) = RenderListing(Samples.ListItem(RunStatus.Succeeded, 10));

        await AdvanceAsync(QuietRefresh.DefaultInterval * 4);

        Assert.Equal(queries, Runs.Listed.Count);
    }

    [Fact]
    public void Comparing_selected_runs_opens_the_compare_view_with_their_ids()
    {
        var first = Samples.ListItem();
        var second = Samples.ListItem();
        Runs.Items.AddRange([first, second]);
        var page = Render<RunsPage>();
        Assert.True(page.Find("#compare").HasAttribute("disabled"));

        page.Find($"tr[data-run='{first.Id}'] input[type=checkbox]").Change(true);
        page.Find($"tr[data-run='{second.Id}'] input[type=checkbox]").Change(true);
        page.Find("#compare").Click();

        var navigation = Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>();
        Assert.Contains(first.Id.ToString("N"), navigation.Uri, StringComparison.Ordinal);
        Assert.Contains(second.Id.ToString("N"), navigation.Uri, StringComparison.Ordinal);
        Assert.Contains("/compare?runs=", navigation.Uri, StringComparison.Ordinal);
    }

    /// <summary>The runs page listing <paramref name="run"/>, and how many list queries rendering it took.</summary>
    private (IRenderedComponent<RunsPage> Page, int Queries) RenderListing(RunListItem run)
    {
        Runs.Items.Add(run);
        var page = Render<RunsPage>();
        return (page, Runs.Listed.Count);
    }
}
