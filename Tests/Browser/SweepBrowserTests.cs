using System.Net;
using System.Net.Http.Json;
using Experiments.Domain.Runs;
using Experiments.Domain.Sweeps;
using Experiments.Tests.Support;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Experiments.Tests.Browser;

/// <summary>A real sweep over Iris, trained by the service, on its page in Chromium: trials, parallel coordinates, importance, best curves, re-run.</summary>
[Collection(OneAtATime.Name)]
public sealed class SweepBrowserTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    private static readonly System.Text.RegularExpressions.Regex RunPage = new("/runs/[0-9a-f]{8}-[0-9a-f-]{27}$");

    [Fact]
    public async Task A_finished_sweep_shows_its_trials_plot_importance_and_best_curves_and_its_best_trial_runs_again()
    {
        using var client = new HttpClient { BaseAddress = browser.Address };
        var (datasetId, modelId) = await Workflow.ImportIrisAndMlpAsync(client);
        var response = await client.PostAsJsonAsync("/api/sweeps", new
        {
            name = "iris lr",
            @base = new { datasetId, modelId, epochs = 6, batchSize = 16, optimizer = new { type = "sgd" }, loss = new { type = "crossEntropy" } },
            parameters = new Dictionary<string, object> { ["optimizer.lr"] = new { type = "choice", values = new[] { 0.001, 0.01, 0.03, 0.1, 0.3 } } },
            method = "grid",
            budget = new { concurrency = 2 },
            earlyTermination = new { type = "asha", minEpochs = 1, reductionFactor = 2 },
            seed = 7,
        });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var sweep = await Workflow.WaitUntilSweepFinishedAsync(client, (await response.ReadAsAsync<SweepView>()).Id);
        Assert.Equal(SweepStatus.Succeeded, sweep.Status);
        var best = sweep.Best!;
        var page = await browser.NewPageAsync();
        // The sweep pages run under the service's content security policy (no eval, which plotly's WebGL traces need): any
        // blocked script is reported on the console, and the test fails on it.
        var violations = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
            {
                lock (violations)
                {
                    violations.Add(message.Text);
                }
            }
        };
        await page.Context.AddInitScriptAsync("""
            document.addEventListener('securitypolicyviolation', e => console.error(`Content Security Policy violation: ${e.effectiveDirective} blocked ${e.blockedURI}`));
            """);

        await page.GotoAsync("/sweeps");
        await Expect(page.Locator("[data-live='true']")).ToBeVisibleAsync();
        await Expect(page.Locator($"#sweeps tr[data-sweep='{sweep.Id}'] td.trials")).ToHaveTextAsync("5 / 5 / 5");
        await page.Locator($"#sweeps tr[data-sweep='{sweep.Id}'] a[href='/sweeps/{sweep.Id}']").ClickAsync();
        await page.WaitForURLAsync($"**/sweeps/{sweep.Id}");

        await Expect(page.Locator("#trials tbody tr")).ToHaveCountAsync(5);
        await Expect(page.Locator("#trials thead th[data-parameter]")).ToHaveTextAsync(["optimizer.lr"]);
        await Expect(page.Locator("#trials tr.best")).ToHaveAttributeAsync("data-trial", best.Number.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Expect(page.Locator("#trials .badge[data-status='pruned']")).ToHaveCountAsync(sweep.Trials.Count(trial => trial.StopReason == StopReason.Pruned));
        await Expect(page.Locator("#epochs-saved")).ToHaveTextAsync($"{sweep.Budget.EpochsSaved} epochs");
        // plotly drew the parallel coordinates: a line per trial across the lr and metric axes, as SVG.
        await page.WaitForFunctionAsync("() => { const chart = document.getElementById('sweep-parcoords'); return chart && chart.data && chart.data.length === 5 "
            + "&& chart.data.every(line => line.x.length === 2) && chart.querySelectorAll('svg .scatterlayer .trace').length === 5; }");
        await Expect(page.Locator("#importance .bar-row[data-parameter='optimizer.lr'] .bar-trials")).ToHaveTextAsync("5 trials");
        // The best trial's curves: train, validation (a sweep holds 10 % out) and test, an epoch each.
        await page.WaitForFunctionAsync($"() => {{ const chart = document.getElementById('best-loss'); return chart && chart.data && chart.data.length === 3 && chart.data[0].x.length === {best.EpochsCompleted}; }}");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "sweep.png"), FullPage = true });
        lock (violations)
        {
            Assert.True(violations.Count == 0, string.Join('\n', violations));
        }

        await page.Locator("#rerun-best").ClickAsync();
        await page.WaitForURLAsync(RunPage);
        var rerun = await Workflow.WaitUntilFinishedAsync(client, Guid.Parse(new Uri(page.Url).Segments[^1]));
        Assert.Null(rerun.SweepId);
        Assert.Equal(best.Parameters["optimizer.lr"].GetDouble(), rerun.Spec.Optimizer!.Double("lr"));
        Assert.Equal(RunStatus.Succeeded, rerun.Status);
    }
}
