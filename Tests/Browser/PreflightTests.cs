using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Experiments.Domain.Datasets;
using Experiments.Domain.Models;
using Experiments.Tests.Support;
using Experiments.Tests.Training.Data;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Experiments.Tests.Browser;

/// <summary>The new-run page's pre-flight check and learning-rate finder in a real browser, on the MNIST sample; screenshots of both.</summary>
[Collection(OneAtATime.Name)]
public sealed class PreflightTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task A_user_checks_a_run_before_starting_it_and_takes_the_learning_rate_the_range_test_suggests()
    {
        using var client = new HttpClient { BaseAddress = browser.Address };
        var response = await client.PostAsync("/api/datasets", DatasetFiles.Form("mnist-10k.npz",
            await File.ReadAllBytesAsync(Path.Combine(AppContext.BaseDirectory, "samples", "mnist-10k.npz")), ("name", "mnist"), ("scale", "1/255"), ("reshape", "1,28,28")));
        Assert.True(response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var mnist = await response.ReadAsAsync<DatasetView>();
        var created = await client.PostAsJsonAsync("/api/models", new
        {
            name = "mnist-mlp",
            layers = new object[] { new { type = "flatten" }, new { type = "linear", outFeatures = 128 }, new { type = "relu" }, new { type = "linear", outFeatures = 10 } },
        });
        var mlp = await created.ReadAsAsync<ModelView>();

        var page = await browser.NewPageAsync();
        await page.GotoAsync($"/runs/new?dataset={mnist.Id}&model={mlp.Id}");
        await Expect(page.Locator("[data-live='true']")).ToBeVisibleAsync();
        await Expect(page.Locator("#fit")).ToContainTextAsync("outputs [10]");
        await page.Locator("[data-field='batchSize']").FillAsync("64");
        await page.Locator("#overfit").CheckAsync();
        await page.Locator("#check").ClickAsync();

        // The form leaves the seed to the service, so the first batch's loss varies around ln 10 = 2.303 (2.2x or 2.3x).
        await Expect(page.Locator("#preflight-initial-loss")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^2\.[23]\d*$"));
        await Expect(page.Locator("#preflight-overfit")).ToContainTextAsync("Memorised");
        await Expect(page.Locator("#preflight-layers tbody tr")).ToHaveCountAsync(4);
        await page.WaitForFunctionAsync("() => { const chart = document.getElementById('chart-overfit'); return chart && chart.data && chart.data.length === 1; }");
        await page.Locator("#preflight").ScreenshotAsync(new LocatorScreenshotOptions { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "preflight.png") });

        await page.Locator("#find-lr").ClickAsync();
        await Expect(page.Locator("#lr-suggestion")).ToContainTextAsync("Suggested learning rate");
        // plotly keeps the drawn traces on the chart's element: loss, smoothed loss and the suggestion.
        await page.WaitForFunctionAsync("() => { const chart = document.getElementById('chart-lr-range'); return chart && chart.data && chart.data.length === 3; }");
        await page.Locator("#lr-finder").ScreenshotAsync(new LocatorScreenshotOptions { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "lr-range-test.png") });
        var suggested = (await page.Locator("#lr-suggestion strong").TextContentAsync())!.Trim();
        await page.Locator("#use-lr").ClickAsync();

        await Expect(page.Locator("[data-field='optimizer.lr']")).ToHaveValueAsync(suggested);
        Assert.InRange(double.Parse(suggested, CultureInfo.InvariantCulture), 1e-4, 1e-2);
        // Nothing was queued by either.
        Assert.Equal(0, (await client.GetFromJsonAsync<Experiments.Domain.Page<Experiments.Domain.Runs.RunListItem>>("/api/runs", ApiFactory.Json))!.TotalCount);
    }
}
