using Experiments.Tests.Support;
using Microsoft.Playwright;

namespace Experiments.Tests.Browser;

/// <summary>Swagger UI reads the document's API-key schemes: its Authorize button sends the key with "Try it out".</summary>
[Collection(OneAtATime.Name)]
public sealed class SwaggerUiTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    [Theory]
    [InlineData("bearer", "authorization", "Bearer key-for-swagger")]
    [InlineData("apiKey", "x-api-key", "key-for-swagger")]
    public async Task The_authorize_button_sends_the_key_with_try_it_out(string scheme, string header, string expected)
    {
        var page = await browser.NewPageAsync();
        await page.GotoAsync("/swagger/index.html");

        await page.ClickAsync("button.authorize");
        var form = page.Locator(".auth-container").Filter(new LocatorFilterOptions { HasText = scheme });
        await form.Locator("input").FillAsync("key-for-swagger");
        await form.Locator("button.authorize").ClickAsync();
        await page.ClickAsync("button.btn-done");
        await page.ClickAsync("#operations-Runs-listRuns .opblock-summary");
        await page.ClickAsync("#operations-Runs-listRuns button.try-out__btn");
        var request = await page.RunAndWaitForRequestAsync(
            () => page.ClickAsync("#operations-Runs-listRuns button.execute"),
            request => request.Url.Contains("/api/runs", StringComparison.Ordinal));
        await page.Locator("#operations-Runs-listRuns .responses-table .response-col_status").First.WaitForAsync();

        Assert.Equal(expected, (await request.AllHeadersAsync()).GetValueOrDefault(header));
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(BrowserFixture.ScreenshotFolder, $"swagger-authorized-{scheme}.png") });
    }
}
