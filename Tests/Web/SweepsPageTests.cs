using Bunit;
using Experiments.Domain.Runs;
using Experiments.Domain.Sweeps;
using Experiments.Web.Components.Layout;
using SweepsPage = Experiments.Web.Components.Pages.Sweeps;

namespace Experiments.Tests.Web;

public sealed class SweepsPageTests : DashboardContext
{
    [Fact]
    public void Lists_each_sweep_with_its_trials_and_best_linked_to_its_page()
    {
        var bestRunId = Guid.NewGuid();
        var sweep = new SweepListItem(Guid.NewGuid(), "iris lr", SweepStatus.Running, SweepMethod.Grid, SweepMetric.ValidationAccuracy, SweepGoal.Maximize,
            Guid.NewGuid(), "iris", 4, 3, 8, 0.9583, bestRunId, DateTimeOffset.UtcNow, "alice", null);
        var unnamed = new SweepListItem(Guid.NewGuid(), null, SweepStatus.Failed, SweepMethod.Tpe, SweepMetric.ValidationLoss, SweepGoal.Minimize,
            Guid.NewGuid(), "iris", 1, 1, null, null, null, DateTimeOffset.UtcNow, null, DateTimeOffset.UtcNow);
        Sweeps.Items.AddRange([sweep, unnamed]);

        var page = Render<SweepsPage>();

        var row = page.Find($"tr[data-sweep='{sweep.Id}']");
        Assert.Equal($"/sweeps/{sweep.Id}", row.QuerySelector("a")!.GetAttribute("href"));
        Assert.Equal("iris lr", row.QuerySelector("a")!.TextContent.Trim());
        Assert.Equal("running", row.QuerySelector(".badge")!.GetAttribute("data-status"));
        Assert.Equal("3 / 4 / 8", row.QuerySelector("td.trials")!.TextContent.Trim());
        Assert.Equal("95.8 %", row.QuerySelector("td.best")!.TextContent.Trim());
        Assert.Equal($"/runs/{bestRunId}", row.QuerySelector("td.best a")!.GetAttribute("href"));
        Assert.Contains("validation accuracy, maximized", row.TextContent, StringComparison.Ordinal);
        Assert.Contains("by alice", row.TextContent, StringComparison.Ordinal);

        var other = page.Find($"tr[data-sweep='{unnamed.Id}']");
        Assert.Equal(unnamed.Id.ToString("N")[..8], other.QuerySelector("a")!.TextContent.Trim());
        Assert.Equal("1 / 1 / –", other.QuerySelector("td.trials")!.TextContent.Trim());
        Assert.Contains("tpe", other.TextContent, StringComparison.Ordinal);
        Assert.Contains("1 – 2 of 2 sweeps", page.Find(".pager").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void Pages_through_many_sweeps()
    {
        for (var i = 0; i < 60; i++)
        {
            Sweeps.Items.Add(new SweepListItem(Guid.NewGuid(), $"sweep {i}", SweepStatus.Succeeded, SweepMethod.Random, SweepMetric.TestLoss, SweepGoal.Minimize,
                Guid.NewGuid(), "iris", 2, 2, 2, 0.25, Guid.NewGuid(), DateTimeOffset.UtcNow, null, DateTimeOffset.UtcNow));
        }
        var page = Render<SweepsPage>();
        Assert.Equal(SweepsPage.PageSize, page.FindAll("#sweeps tbody tr").Count);

        page.Find("#next-page").Click();

        Assert.Equal(10, page.FindAll("#sweeps tbody tr").Count);
        Assert.Contains("51 – 60 of 60 sweeps", page.Find(".pager").TextContent, StringComparison.Ordinal);
        Assert.Equal("0.25", page.Find("#sweeps tbody td.best").TextContent.Trim());
    }

    [Fact]
    public void Without_sweeps_it_says_how_to_start_one()
    {
        var page = Render<SweepsPage>();

        Assert.Contains("POST /api/sweeps", page.Find("#no-sweeps").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void The_navigation_links_to_the_sweeps()
    {
        var layout = Render<MainLayout>();

        Assert.Equal("Sweeps", layout.Find("header nav a[href='/sweeps']").TextContent.Trim());
    }
}
