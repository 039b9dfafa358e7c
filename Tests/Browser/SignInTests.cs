using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Experiments.Domain.Access;
using Experiments.Domain.Runs;
using Experiments.Tests.Api.Access;
using Experiments.Tests.Support;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Experiments.Tests.Browser;

/// <summary>
/// The dashboard of a service with keys, in Chromium: a viewer sees no New run and no Cancel; an editor starts and cancels
/// their own run and cannot cancel another's; sign-out ends the session; the Hangfire dashboard refuses a non-admin.
/// </summary>
[Collection(OneAtATime.Name)]
public sealed class SignInTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    private static readonly System.Text.RegularExpressions.Regex RunPage = new("/runs/[0-9a-f]{8}-[0-9a-f-]{27}$");

    [Fact]
    public async Task Viewers_and_editors_see_what_their_role_allows_and_sign_out()
    {
        var factory = browser.Factory!;
        var viewerKey = await Keys.CreateAsync(factory, "vera", Role.Viewer);
        var aliceKey = await Keys.CreateAsync(factory, "alice", Role.Editor);
        var bobKey = await Keys.CreateAsync(factory, "bob", Role.Editor);
        using var bob = new HttpClient { BaseAddress = browser.Address };
        bob.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bobKey);
        var (datasetId, modelId) = await Workflow.ImportIrisAndMlpAsync(bob);
        // Bob's run trains for long on one thread, so that it is still running while the others look at it.
        var bobsRun = await (await bob.PostAsJsonAsync("/api/runs", new
        {
            datasetId, modelId, optimizer = new { type = "sgd", lr = 0.0001 }, loss = new { type = "crossEntropy" }, epochs = 100_000, threads = 1,
        })).ReadAsAsync<RunView>();
        try
        {
            var page = await browser.NewPageAsync();

            // Not signed in: every page sends the browser to sign in; a wrong key is refused there with the reason.
            await page.GotoAsync("/datasets");
            await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/signin\\?returnUrl=%2Fdatasets"));
            await page.Locator("#key").FillAsync("exp_not-a-key");
            await page.Locator("#signin").ClickAsync();
            await Expect(page.Locator("#signin-error")).ToContainTextAsync("not an Experiments key");
            await ShootAsync(page, "signin");

            // A viewer: reads everything, starts and cancels nothing.
            await SignInAsync(page, viewerKey);
            await Expect(page.Locator("#signed-in")).ToContainTextAsync("vera");
            await Expect(page.Locator("#new-run")).ToHaveCountAsync(0);
            await Expect(page.Locator("header nav a[href='/runs/new']")).ToHaveCountAsync(0);
            await Expect(page.Locator("header a[href='/hangfire']")).ToHaveCountAsync(0);
            await Expect(page.Locator("header nav a[href='/workers']")).ToBeVisibleAsync();
            await OpenAsync(page, $"/runs/{bobsRun.Id}");
            await Expect(page.Locator("h1")).ToContainTextAsync("Run");
            await Expect(page.Locator("#cancel")).ToHaveCountAsync(0);
            await Expect(page.Locator("#rerun")).ToHaveCountAsync(0);
            await OpenAsync(page, "/runs/new");
            await Expect(page.Locator("#not-allowed")).ToContainTextAsync("editor");
            await page.Locator("#signout").ClickAsync();
            await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/signin"));
            await page.GotoAsync("/");
            await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/signin"));

            // An editor: starts a run from the form and cancels it; Bob's run offers no Cancel.
            await SignInAsync(page, aliceKey, returnTo: $"/runs/new?dataset={datasetId}&model={modelId}");
            await Expect(page.Locator("#signed-in")).ToContainTextAsync("alice");
            await Expect(page.Locator("#fit")).ToContainTextAsync("outputs [3]");
            await Expect(page.Locator("#start")).ToBeEnabledAsync();
            await page.Locator("#start").ClickAsync();
            await page.WaitForURLAsync(RunPage);
            // Queued behind Bob's run, it is cancelled at once.
            await Expect(page.Locator("#cancel")).ToBeVisibleAsync();
            await page.Locator("#cancel").DispatchEventAsync("click");
            await Expect(page.Locator(".page-head .badge")).ToHaveAttributeAsync("data-status", "cancelled");
            await OpenAsync(page, $"/runs/{bobsRun.Id}");
            await Expect(page.Locator("#rerun")).ToBeVisibleAsync();
            await Expect(page.Locator("#cancel")).ToHaveCountAsync(0);
            await ShootAsync(page, "run-of-another-editor");

            // The job dashboard is for admins.
            var jobs = await page.GotoAsync("/hangfire");
            Assert.Equal((int)HttpStatusCode.Forbidden, jobs!.Status);
        }
        finally
        {
            await bob.PostAsync($"/api/runs/{bobsRun.Id}/cancel", null);
        }
    }

    private static async Task SignInAsync(IPage page, string key, string returnTo = "/")
    {
        await page.GotoAsync($"/signin?returnUrl={Uri.EscapeDataString(returnTo)}");
        await page.Locator("#key").FillAsync(key);
        await page.Locator("#signin").ClickAsync();
        await page.WaitForURLAsync(url => new Uri(url).PathAndQuery == returnTo);
        await Expect(page.Locator("[data-live='true']")).ToBeVisibleAsync();
    }

    private static async Task OpenAsync(IPage page, string path)
    {
        await page.GotoAsync(path);
        await Expect(page.Locator("[data-live='true']")).ToBeVisibleAsync();
    }

    private static async Task ShootAsync(IPage page, string name) =>
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserFixture.ScreenshotFolder, $"{name}.png"), FullPage = true });
}
