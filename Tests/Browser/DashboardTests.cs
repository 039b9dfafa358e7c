using Experiments.Tests.Support;
using Experiments.Web.Components.Shared;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Experiments.Tests.Browser;

/// <summary>The whole workflow in a real browser, as a user does it, with a screenshot of every page.</summary>
[Collection(OneAtATime.Name)]
public sealed class DashboardTests(BrowserFixture browser, ITestOutputHelper output) : IClassFixture<BrowserFixture>
{
    private static readonly System.Text.RegularExpressions.Regex RunPage = new("/runs/[0-9a-f]{8}-[0-9a-f-]{27}$");

    [Fact]
    public async Task A_user_uploads_data_builds_a_model_trains_watches_the_chart_grow_cancels_a_run_compares_previews_samples_and_picks_a_template()
    {
        try
        {
            await ScenarioAsync(browser);
        }
        catch (Exception first) when (first is PlaywrightException or TimeoutException)
        {
            // At the end of the whole suite on two shared cores, a step can time out while training saturates the machine.
            // The scenario runs once more on a fresh service and browser; a real fault fails both times.
            output.WriteLine($"The first attempt failed; running the scenario once more on a fresh service. {first.Message}");
            var fresh = new BrowserFixture();
            try
            {
                await fresh.InitializeAsync();
                await ScenarioAsync(fresh);
            }
            finally
            {
                await fresh.DisposeAsync();
            }
        }
    }

    private static async Task ScenarioAsync(BrowserFixture browser)
    {
        var page = await browser.NewPageAsync();

        // Datasets: upload a CSV and read the service's verdict.
        await OpenAsync(page, "/datasets");
        await page.Locator("#dataset-file").SetInputFilesAsync(Workflow.IrisPath);
        await page.Locator("#dataset-name").FillAsync("iris");
        await page.Locator("#import").ClickAsync();
        await Expect(page.Locator("#verdict-ok strong")).ToHaveTextAsync("iris");
        await Expect(page.Locator("#verdict .dataset-shape")).ToHaveTextAsync("[4]");
        await Expect(page.Locator("#verdict .dataset-classes")).ToHaveTextAsync("3");
        await ShootAsync(page, "datasets");

        // Models: type the layers, see every layer's shape checked live, save.
        await OpenAsync(page, "/models");
        await page.Locator("#model-name").FillAsync("iris-mlp");
        await page.Locator("#layers").FillAsync("""
            [
              {"type": "linear", "outFeatures": 16},
              {"type": "relu"},
              {"type": "linear", "outFeatures": 0}
            ]
            """);
        await Expect(page.Locator("tr.invalid[data-layer-index='2']")).ToBeVisibleAsync();
        await page.Locator("#layers").FillAsync("""
            [
              {"type": "linear", "outFeatures": 16},
              {"type": "relu"},
              {"type": "linear", "outFeatures": 3}
            ]
            """);
        // 4·16+16 + 16·3+3 = 131 parameters for samples of shape [4].
        await Expect(page.Locator("#total-parameters")).ToHaveTextAsync("131");
        await page.Locator("#save-model").ClickAsync();
        await Expect(page.Locator("#saved")).ToContainTextAsync("iris-mlp v1");
        await ShootAsync(page, "models");

        // New run: the form starts from PyTorch's defaults and lands on the live run page.
        await OpenAsync(page, "/runs/new");
        await Expect(page.Locator("#fit")).ToContainTextAsync("outputs [3]");
        await Expect(page.Locator("[data-field='optimizer.lr']")).ToHaveValueAsync("0.001");
        await page.Locator("[data-field='optimizer.lr']").FillAsync("0.01");
        await page.Locator("#epochs").FillAsync("0");
        await Expect(page.Locator("#start")).ToBeDisabledAsync();
        // Long enough to be watched however fast this machine trains (an Iris epoch takes milliseconds now that its storing
        // and checkpoint are off the training thread); it is cancelled once seen growing.
        await page.Locator("#epochs").FillAsync("20000");
        await page.Locator("#batchSize").FillAsync("4");
        // One libtorch thread: the long run leaves a core to the service and the browser, whose renders the test watches.
        await page.Locator("details summary", new() { HasText = "More options" }).ClickAsync();
        await page.Locator("#threads").FillAsync("1");
        await ShootAsync(page, "new-run");
        await StartRunAsync(page);
        var watched = page.Url;

        // The run page: the loss chart gains points pushed over SignalR, without reloading the page.
        await page.EvaluateAsync("() => { window.__sameDocument = true; }");
        var early = await WaitForPointsAsync(page, "chart-loss", atLeast: 2);
        var later = await WaitForPointsAsync(page, "chart-loss", atLeast: early + 3);
        Assert.True(later > early);
        Assert.True(await page.EvaluateAsync<bool>("() => window.__sameDocument === true"), "the run page reloaded instead of updating in place");
        await ShootAsync(page, "run-live");

        // Workers, from the navigation: this service trains in its own process, and its row links to the run it trains.
        await page.Locator("header nav a[href='/workers']").ClickAsync();
        var worker = page.Locator("#workers tbody tr").First;
        await Expect(worker.Locator(".badge")).ToHaveAttributeAsync("data-status", "active");
        var runLink = worker.Locator($".current-runs a[href='{new Uri(watched).AbsolutePath}']");
        await Expect(runLink).ToBeVisibleAsync();
        await ShootAsync(page, "workers");
        await runLink.ClickAsync();
        await page.WaitForURLAsync(watched);

        // Cancel it: its worker stops within a batch, and the page hears the new status.
        await CancelAsync(page);

        // A second run, re-run from the first one's spec with another learning rate: cancel it from its page too.
        await page.Locator("#rerun").ClickAsync();
        // The run page has its own #epochs card: wait for the form before touching its fields.
        await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/runs/new"));
        await Expect(page.Locator("input#epochs")).ToBeVisibleAsync();
        await Expect(page.Locator("[data-field='optimizer.lr']")).ToHaveValueAsync("0.01");
        await page.Locator("[data-field='optimizer.lr']").FillAsync("0.02");
        await Expect(page.Locator("#start")).ToBeEnabledAsync();
        await page.Locator("#start").ClickAsync();
        await page.WaitForURLAsync(url => url != watched && RunPage.IsMatch(url));
        var second = page.Url;
        await CancelAsync(page);

        // A short re-run finishes with its confusion matrix and per-class metrics.
        await page.Locator("#rerun").ClickAsync();
        // The run page has its own #epochs card: wait for the form before touching its fields.
        await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/runs/new"));
        await Expect(page.Locator("input#epochs")).ToBeVisibleAsync();
        await page.Locator("#epochs").FillAsync("12");
        await page.Locator("#batchSize").FillAsync("8");
        await Expect(page.Locator("#start")).ToBeEnabledAsync();
        await page.Locator("#start").ClickAsync();
        await page.WaitForURLAsync(url => url != watched && url != second && RunPage.IsMatch(url));
        await Expect(page.Locator(".page-head .badge")).ToHaveAttributeAsync("data-status", "succeeded", new() { Timeout = 120_000 });
        await Expect(page.Locator("#per-class tbody tr")).ToHaveCountAsync(3);
        await page.WaitForFunctionAsync("() => document.getElementById('chart-loss').data[0].x.length === 12");
        await ShootAsync(page, "run-finished");

        // Runs: all three listed; select them and compare.
        await OpenAsync(page, "/");
        await Expect(page.Locator("table.runs tbody tr")).ToHaveCountAsync(3);
        await ShootAsync(page, "runs");
        foreach (var checkbox in await page.Locator("table.runs tbody input[type=checkbox]").AllAsync())
        {
            await checkbox.CheckAsync();
        }
        await page.Locator("#compare").ClickAsync();
        await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/compare\\?runs="));
        await Expect(page.Locator("#spec-table")).ToBeVisibleAsync();
        await Expect(page.Locator("tr[data-setting='optimizer.lr']")).ToHaveClassAsync("differs");
        await Expect(page.Locator("tr[data-setting='loss']")).Not.ToHaveClassAsync("differs");
        await page.WaitForFunctionAsync("() => { const chart = document.getElementById('compare-test-accuracy'); return chart && chart.data && chart.data.length === 3; }");
        await ShootAsync(page, "compare");

        // Datasets again: a bundled image sample previews as digits with their labels, in either split; Iris as rows.
        await OpenAsync(page, "/datasets");
        await page.Locator("[data-sample='mnist-10k.npz']").ClickAsync();
        await Expect(page.Locator("#verdict-ok strong")).ToHaveTextAsync("mnist-10k");
        await page.Locator("#datasets tbody tr.clickable", new() { HasText = "mnist-10k" }).ClickAsync();
        await Expect(page.Locator(".sample-images figure")).ToHaveCountAsync(SamplePreview.Count);
        await Expect(page.Locator(".sample-images figcaption").First).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^[0-9]$"));
        await page.Locator(".sample-preview button[data-split='test']").ClickAsync();
        await Expect(page.Locator(".sample-images")).ToHaveAttributeAsync("data-split", "test");
        // Each digit is a 28×28 PNG the browser decoded.
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('.sample-images img')].every(img => img.complete && img.naturalWidth === 28)");
        await ShootAsync(page, "dataset-preview-images");
        await page.Locator("#datasets tbody tr.clickable", new() { HasText = "iris" }).ClickAsync();
        await Expect(page.Locator(".sample-rows tbody tr")).ToHaveCountAsync(SamplePreview.Count);
        await Expect(page.Locator(".sample-rows thead th")).ToHaveTextAsync(["#", "x0", "x1", "x2", "x3", "class"]);
        await ShootAsync(page, "dataset-preview-rows");

        // Models again: start from a template, checked at once against the input shape it was written for.
        await OpenAsync(page, "/models");
        await page.Locator("[data-template='lenet5']").ClickAsync();
        await Expect(page.Locator("#model-name")).ToHaveValueAsync("lenet5");
        await Expect(page.Locator("#input-shape")).ToHaveValueAsync("1, 28, 28");
        await Expect(page.Locator("#total-parameters")).ToHaveTextAsync("61,706");
        await ShootAsync(page, "models-template");
    }

    /// <summary>
    /// Cancels the run on the page and waits for the page to show it. The run page re-renders with every epoch
    /// pushed to it, and on a loaded machine the button can be re-rendered between Playwright's checks that it is
    /// stable, or a click can land between two renders and be lost. So the click is dispatched to the button as it is
    /// at that moment, and repeated (cancel is idempotent) while the run still offers it; a button showing
    /// "Cancelling…" is left alone and its run given time to stop.
    /// </summary>
    private static async Task CancelAsync(IPage page)
    {
        var badge = page.Locator(".page-head .badge");
        var button = page.Locator("#cancel");
        for (var attempt = 1; ; attempt++)
        {
            if (await button.CountAsync() == 1 && await button.IsEnabledAsync())
            {
                await button.DispatchEventAsync("click");
            }
            try
            {
                await Expect(badge).ToHaveAttributeAsync("data-status", "cancelled", new() { Timeout = 20_000 });
                return;
            }
            catch (PlaywrightException) when (attempt < 4)
            {
                // Not cancelled yet: click again if the run still offers its cancel button.
            }
        }
    }

    /// <summary>Submits the new-run form once it is valid and waits for the run page.</summary>
    private static async Task StartRunAsync(IPage page)
    {
        await Expect(page.Locator("#start")).ToBeEnabledAsync();
        await page.Locator("#start").ClickAsync();
        await page.WaitForURLAsync(RunPage);
    }

    /// <summary>Opens a page and waits until its circuit is connected, so clicks reach the server.</summary>
    private static async Task OpenAsync(IPage page, string path)
    {
        await page.GotoAsync(path);
        await Expect(page.Locator("[data-live='true']")).ToBeVisibleAsync();
    }

    /// <summary>How many epochs the chart's first trace holds: plotly keeps a chart's data on its element.</summary>
    private static Task<int> CountPointsAsync(IPage page, string chartId) =>
        page.EvaluateAsync<int>($"() => {{ const chart = document.getElementById('{chartId}'); return chart && chart.data && chart.data.length ? chart.data[0].x.length : 0; }}");

    private static async Task<int> WaitForPointsAsync(IPage page, string chartId, int atLeast)
    {
        await page.WaitForFunctionAsync(
            $"() => {{ const chart = document.getElementById('{chartId}'); return chart && chart.data && chart.data.length && chart.data[0].x.length >= {atLeast}; }}",
            null, new PageWaitForFunctionOptions { Timeout = 60_000, PollingInterval = 100 });
        return await CountPointsAsync(page, chartId);
    }

    private static async Task ShootAsync(IPage page, string name) =>
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserFixture.ScreenshotFolder, $"{name}.png"), FullPage = true });
}
