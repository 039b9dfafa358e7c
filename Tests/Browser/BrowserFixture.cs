using Experiments.Tests.Support;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Experiments.Tests.Browser;

/// <summary>
/// The real host on a Kestrel loopback port (a temporary data folder, real SQLite, Hangfire and TorchSharp) and
/// Debian's Chromium, driven headless by Playwright. Playwright never downloads a browser here: it starts
/// <see cref="ChromiumPath"/>, which <c>.ci/run</c> installs.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public Uri Address { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    /// <summary>Set by <see cref="InitializeAsync"/>, disposed by <see cref="DisposeAsync"/>.</summary>
    public ApiFactory? Factory { get; private set; }

    /// <summary>Where the screenshots go: Tests/TestResults/screenshots.</summary>
    public static string ScreenshotFolder { get; } = Path.Combine(TestsFolder(), "TestResults", "screenshots");

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException(
                $"The browser tests drive Debian's Chromium at {ChromiumPath}, which is not installed. Install it as .ci/run does: apt-get update && apt-get install -y chromium");
        }
        Directory.CreateDirectory(ScreenshotFolder);
        Factory = new ApiFactory();
        Factory.UseKestrel(0);
        Factory.StartServer();
        var addresses = Factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        Address = new Uri(addresses.First());
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            // A closed network: no background services, no update checks, nothing that waits for the internet.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"],
        });
    }

    public async Task<IPage> NewPageAsync()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = Address.ToString(),
            ViewportSize = new ViewportSize { Width = 1440, Height = 900 },
        });
        // Generous: CI shares two cores with training runs, and a slow step must not read as a broken page.
        context.SetDefaultTimeout(60_000);
        Assertions.SetDefaultExpectTimeout(30_000);
        return await context.NewPageAsync();
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }
        _playwright?.Dispose();
        if (Factory is not null)
        {
            try
            {
                await Factory.DisposeAsync();
            }
            catch (Exception exception) when (exception is OperationCanceledException
                || (exception is AggregateException aggregate && aggregate.Flatten().InnerExceptions.All(inner => inner is OperationCanceledException)))
            {
                // A circuit whose page was left while a chart was drawn ends with Plotly.Blazor's DisposeAsync awaiting a
                // JavaScript call without a timeout, which the departed page never answers; its disconnect request then
                // outlasts the host's shutdown timeout and Hangfire's stop is cancelled. The service has stopped by then.
            }
        }
    }

    private static string TestsFolder()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "Tests.csproj")))
        {
            folder = folder.Parent;
        }
        return folder?.FullName ?? AppContext.BaseDirectory;
    }
}
