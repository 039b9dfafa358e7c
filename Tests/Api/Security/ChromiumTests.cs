using System.Net;
using System.Net.Http.Headers;
using Experiments.Domain.Runs;
using Experiments.Tests.Browser;
using Experiments.Tests.Support;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Experiments.Tests.Api.Security;

/// <summary>The HTTP hardening as a browser meets it: what the service's own pages do works, what another site's page tries is refused.</summary>
[Collection(OneAtATime.Name)]
public sealed class ChromiumTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    /// <summary>Opens a WebSocket from the page and tells whether it opened.</summary>
    private const string OpenWebSocket = """
        url => new Promise(resolve => {
            const socket = new WebSocket(url);
            socket.onopen = () => { socket.close(); resolve('open'); };
            socket.onerror = () => resolve('refused');
        })
        """;

    /// <summary>
    /// The content security policy against what it must not break: the dashboard's pages with their live circuit, plotly
    /// charts and data: images, Swagger UI and the Hangfire dashboard. Chromium reports every blocked script, style,
    /// image or connection on the console and as a securitypolicyviolation event; there must be none.
    /// </summary>
    [Fact]
    public async Task The_dashboard_its_charts_and_images_swagger_ui_and_the_job_dashboard_work_under_the_policy_without_a_violation()
    {
        using var client = new HttpClient { BaseAddress = browser.Address };
        var (datasetId, modelId) = await Workflow.ImportIrisAndMlpAsync(client);
        var run = await Workflow.CreateRunAsync(client, datasetId, modelId, epochs: 3);
        await Workflow.WaitUntilFinishedAsync(client, run.Id);
        await ImportMnistAsync(client);

        var page = await browser.NewPageAsync();
        var violations = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
            {
                lock (violations)
                {
                    violations.Add($"{page.Url}: {message.Text}");
                }
            }
        };
        // Injected by Playwright before the page's own scripts, so it hears violations the console might word differently.
        await page.Context.AddInitScriptAsync("""
            document.addEventListener('securitypolicyviolation', e =>
                console.error(`Content Security Policy violation: ${e.effectiveDirective} blocked ${e.blockedURI} (${e.sourceFile}:${e.lineNumber})`));
            """);

        // Each page is left only once it has drawn what it read: a page left while it is still subscribing to live
        // events can keep its circuit from closing (a dashboard race outside this test's subject).
        await OpenDashboardAsync(page, "/");
        await Expect(page.Locator("table.runs tbody tr")).Not.ToHaveCountAsync(0);
        foreach (var path in new[] { "/models", "/runs/new" })
        {
            await OpenDashboardAsync(page, path);
        }
        await OpenDashboardAsync(page, $"/compare?runs={run.Id}");
        await page.WaitForFunctionAsync("() => document.getElementById('compare-test-accuracy')?.data?.length === 1");

        await OpenDashboardAsync(page, $"/runs/{run.Id}");
        await page.WaitForFunctionAsync("() => document.getElementById('chart-loss')?.data?.[0]?.x?.length === 3");
        await page.WaitForFunctionAsync("() => document.querySelector('#chart-confusion button.cell') !== null");

        await OpenDashboardAsync(page, "/datasets");
        await page.Locator("#datasets tbody tr.clickable", new() { HasText = "mnist" }).ClickAsync();
        await page.WaitForFunctionAsync("() => { const images = [...document.querySelectorAll('.sample-images img')]; return images.length > 0 && images.every(img => img.complete && img.naturalWidth === 28); }");

        await page.GotoAsync("/swagger/index.html");
        await Expect(page.Locator(".opblock-summary-path", new() { HasText = "/api/runs/{id}/cancel" })).ToBeVisibleAsync();

        await page.GotoAsync("/hangfire");
        await Expect(page.Locator("#stats, .js-page-container").First).ToBeVisibleAsync();

        lock (violations)
        {
            Assert.True(violations.Count == 0, string.Join('\n', violations));
        }
    }

    [Fact]
    public async Task A_cross_site_pages_form_post_and_websocket_are_refused_and_the_services_own_page_does_both()
    {
        using var client = new HttpClient { BaseAddress = browser.Address };
        var (datasetId, modelId) = await Workflow.ImportIrisAndMlpAsync(client);
        var run = await Workflow.CreateRunAsync(client, datasetId, modelId, epochs: 100_000);
        var cancel = new Uri(browser.Address, $"/api/runs/{run.Id}/cancel").ToString();
        var hub = new UriBuilder(browser.Address) { Scheme = "ws", Path = "/hubs/runs" }.Uri.ToString();
        var page = await browser.NewPageAsync();
        // A page of another site, as a browser would load it; only its own address is answered by Playwright.
        await page.RouteAsync("http://evil.example/**", route => route.FulfillAsync(new() { ContentType = "text/html", Body = "<!DOCTYPE html><title>evil</title>" }));

        try
        {
            // The form navigates the page to the answer: the WebSocket is tried first, while the page is still the other site's.
            await page.GotoAsync("http://evil.example/");
            Assert.Equal("refused", await page.EvaluateAsync<string>(OpenWebSocket, hub));
            Assert.Equal((int)HttpStatusCode.Forbidden, await SubmitFormAsync(page, cancel));
            Assert.False((await (await client.GetAsync($"/api/runs/{run.Id}")).ReadAsAsync<RunView>()).Status.IsFinished());

            await page.GotoAsync("/swagger/index.html");
            Assert.Equal("open", await page.EvaluateAsync<string>(OpenWebSocket, hub));
            Assert.Equal((int)HttpStatusCode.Accepted, await SubmitFormAsync(page, cancel));
            await Workflow.WaitUntilAsync(client, run.Id, view => view.Status == RunStatus.Cancelled);
        }
        finally
        {
            // Whatever failed, the long run leaves the worker to the next test.
            await client.PostAsync($"/api/runs/{run.Id}/cancel", content: null);
        }
    }

    /// <summary>Posts an HTML form (application/x-www-form-urlencoded) from the page, as a page can without any script permission, and answers its status.</summary>
    private static async Task<int> SubmitFormAsync(IPage page, string action)
    {
        var response = await page.RunAndWaitForResponseAsync(
            () => page.EvaluateAsync("""
                action => {
                    const form = document.createElement('form');
                    form.method = 'POST';
                    form.action = action;
                    const field = document.createElement('input');
                    field.name = 'reason';
                    field.value = 'cancelled by another site';
                    form.appendChild(field);
                    document.body.appendChild(form);
                    form.submit();
                }
                """, action),
            response => response.Url == action);
        // The form navigates the page to its answer: let that navigation end, so the next one is not interrupted by it.
        await page.WaitForURLAsync(action);
        return response.Status;
    }

    /// <summary>Opens a dashboard page and waits until its circuit is connected over the WebSocket the policy allows.</summary>
    private static async Task OpenDashboardAsync(IPage page, string path)
    {
        await page.GotoAsync(path);
        await Expect(page.Locator("[data-live='true']")).ToBeVisibleAsync();
    }

    private static async Task ImportMnistAsync(HttpClient client)
    {
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(await File.ReadAllBytesAsync(Path.Combine(AppContext.BaseDirectory, "samples", "mnist-10k.npz")));
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "file", "mnist-10k.npz");
        form.Add(new StringContent("mnist"), "name");
        var response = await client.PostAsync("/api/datasets", form);
        Assert.True(response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }
}
