using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Experiments.Domain.Datasets;
using Experiments.Domain.Models;
using Experiments.Domain.Sweeps;
using Experiments.Tests.Support;
using Experiments.Tests.Training.Data;
using Xunit.Abstractions;

namespace Experiments.Tests.Api;

/// <summary>
/// What early termination buys on real training: the same grid of 8 on the MNIST sample, trained in full and under asha,
/// from the same seed. asha must train at most 60% of the epochs and find a best trial within 1 point of the full grid's.
/// </summary>
[Collection(OneAtATime.Name)]
public sealed class SweepBudgetTests(ApiFactory factory, ITestOutputHelper output) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private const int Epochs = 9;

    [Fact]
    public async Task Asha_on_a_grid_of_8_trains_at_most_60_percent_of_the_epochs_and_finds_a_best_within_1_point()
    {
        var (datasetId, modelId) = await MnistAsync(_client);
        var full = await RunAsync(_client, Spec(datasetId, modelId, new { type = "none" }));
        var asha = await RunAsync(_client, Spec(datasetId, modelId, new { type = "asha", minEpochs = 1, reductionFactor = 3 }));

        var fraction = (double)asha.Budget.EpochsUsed / full.Budget.EpochsUsed;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"full grid: {full.Budget.EpochsUsed} epochs, best {full.Best!.Value:F4} (trial {full.Best.Number}); asha: {asha.Budget.EpochsUsed} epochs "
            + $"({fraction:P1}), {asha.Budget.EpochsSaved} saved, best {asha.Best!.Value:F4} (trial {asha.Best.Number})"));
        foreach (var trial in asha.Trials)
        {
            output.WriteLine($"  {trial.Number}: {string.Join(", ", trial.Parameters.Select(p => $"{p.Key}={p.Value}"))} {trial.EpochsCompleted} epochs, {trial.Value:F4} {trial.Pruning?.Reason}");
        }

        Assert.Equal(8 * Epochs, full.Budget.EpochsUsed);
        Assert.Equal(SweepStatus.Succeeded, asha.Status);
        Assert.Equal(8, asha.Trials.Count);
        Assert.True(fraction <= 0.6, $"asha trained {fraction:P1} of the full grid's epochs");
        Assert.True(full.Best.Value - asha.Best.Value <= 0.01, $"asha's best {asha.Best.Value:F4} is more than 1 point below the full grid's {full.Best.Value:F4}");
    }

    /// <summary>The grid the test and <c>bench sweep</c> measure (samples/sweep-mnist-grid.json), on the dataset and model given.</summary>
    public static JsonObject Spec(Guid datasetId, Guid modelId, object earlyTermination)
    {
        var spec = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "samples", "sweep-mnist-grid.json")))!.AsObject();
        spec["base"]!["datasetId"] = datasetId.ToString();
        spec["base"]!["modelId"] = modelId.ToString();
        spec["earlyTermination"] = JsonSerializer.SerializeToNode(earlyTermination);
        return spec;
    }

    public static async Task<(Guid DatasetId, Guid ModelId)> MnistAsync(HttpClient client)
    {
        var dataset = await client.PostAsync("/api/datasets", DatasetFiles.Form("mnist-10k.npz",
            await File.ReadAllBytesAsync(Path.Combine(AppContext.BaseDirectory, "samples", "mnist-10k.npz")), ("scale", "1/255"), ("reshape", "1,28,28")));
        Assert.True(dataset.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, await dataset.Content.ReadAsStringAsync());
        var model = await client.PostAsJsonAsync("/api/models", new
        {
            name = "mnist-mlp",
            layers = new object[] { new { type = "flatten" }, new { type = "linear", outFeatures = 64 }, new { type = "relu" }, new { type = "linear", outFeatures = 10 } },
        });
        Assert.True(model.IsSuccessStatusCode, await model.Content.ReadAsStringAsync());
        return ((await dataset.ReadAsAsync<DatasetView>()).Id, (await model.ReadAsAsync<ModelView>()).Id);
    }

    public static async Task<SweepView> RunAsync(HttpClient client, object spec)
    {
        var created = await client.PostAsJsonAsync("/api/sweeps", spec);
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        return await Workflow.WaitUntilSweepFinishedAsync(client, (await created.ReadAsAsync<SweepView>()).Id, TimeSpan.FromMinutes(6));
    }
}
