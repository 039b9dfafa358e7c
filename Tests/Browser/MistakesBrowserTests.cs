using System.Net.Http.Json;
using Experiments.Domain.Datasets;
using Experiments.Domain.Models;
using Experiments.Domain.Runs;
using Experiments.Tests.Support;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Experiments.Tests.Browser;

/// <summary>The run page's confusion matrix in a real browser: a cell chosen with the keyboard opens its mistakes as pictures.</summary>
[Collection(OneAtATime.Name)]
public sealed class MistakesBrowserTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task A_confusion_matrix_cell_chosen_with_the_keyboard_shows_its_misread_digits()
    {
        using var client = new HttpClient { BaseAddress = browser.Address };
        var run = await TrainedMnistAsync(client);
        var confusion = run.Evaluation!.ConfusionMatrix;
        var (worstTrue, worstPredicted) = Enumerable.Range(0, 10).SelectMany(t => Enumerable.Range(0, 10).Where(p => p != t).Select(p => (t, p)))
            .MaxBy(cell => confusion[cell.t][cell.p]);
        var shown = Math.Min(confusion[worstTrue][worstPredicted], 24);
        var page = await browser.NewPageAsync();

        await page.GotoAsync($"/runs/{run.Id}");
        await Expect(page.Locator("[data-live='true']")).ToBeVisibleAsync();
        var cell = page.Locator($"#chart-confusion button[data-true='{worstTrue}'][data-predicted='{worstPredicted}']");
        await cell.FocusAsync();
        await page.Keyboard.PressAsync("Enter");

        await Expect(cell).ToHaveAttributeAsync("aria-pressed", "true");
        await Expect(page.Locator("#mistakes figure.mistake")).ToHaveCountAsync(shown);
        await Expect(page.Locator("#mistakes .classes").First).ToHaveTextAsync($"{worstTrue} → {worstPredicted}");
        // Each digit is a 28×28 PNG the browser decoded.
        await page.WaitForFunctionAsync("() => { const images = [...document.querySelectorAll('#mistakes figure.mistake img')]; "
            + "return images.length > 0 && images.every(img => img.complete && img.naturalWidth === 28 && img.naturalHeight === 28); }");
        // The confusion matrix and the gallery below it, in page coordinates (focusing the cell scrolled the page).
        var edges = await page.EvaluateAsync<float[]>("() => [document.querySelector('.evaluation').getBoundingClientRect().top + window.scrollY, "
            + "document.querySelector('#mistakes').getBoundingClientRect().bottom + window.scrollY]");
        var (top, bottom) = (edges[0], edges[1]);
        await page.ScreenshotAsync(new PageScreenshotOptions
        {
            Path = Path.Combine(BrowserFixture.ScreenshotFolder, "mistakes.png"),
            FullPage = true,
            Clip = new Clip { X = 0, Y = top - 8, Width = 1440, Height = bottom - top + 16 },
        });

        await page.Locator("#mistakes-ambiguous").ClickAsync();
        await Expect(page.Locator("#mistakes figure.mistake")).ToHaveCountAsync(24);
        await Expect(page.Locator("#chart-confusion button[aria-pressed='true']")).ToHaveCountAsync(0);
    }

    private static async Task<RunView> TrainedMnistAsync(HttpClient client)
    {
        var import = await client.PostAsync("/api/datasets", Workflow.CsvForm(
            await File.ReadAllBytesAsync(Path.Combine(AppContext.BaseDirectory, "samples", "mnist-10k.npz")), "mnist-10k.npz", ("scale", "1/255"), ("reshape", "1,28,28")));
        Assert.True(import.IsSuccessStatusCode, await import.Content.ReadAsStringAsync());
        var mnist = await import.ReadAsAsync<DatasetView>();
        var model = await (await client.PostAsJsonAsync("/api/models", new
        {
            name = "mnist-mlp",
            layers = new object[] { new { type = "flatten" }, new { type = "linear", outFeatures = 16 }, new { type = "relu" }, new { type = "linear", outFeatures = 10 } },
        })).ReadAsAsync<ModelView>();
        var created = await client.PostAsJsonAsync("/api/runs", new
        {
            datasetId = mnist.Id, modelId = model.Id, optimizer = new { type = "adam", lr = 0.01 }, loss = new { type = "crossEntropy" }, epochs = 1, batchSize = 100, seed = 1,
        });
        var run = await Workflow.WaitUntilFinishedAsync(client, (await created.ReadAsAsync<RunView>()).Id);
        Assert.True(run.Status == RunStatus.Succeeded, run.Error);
        return run;
    }
}
