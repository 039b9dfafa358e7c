using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Bunit;
using Experiments.Domain;
using Experiments.Domain.Models;
using Experiments.Domain.Runs;
using Experiments.Web.Components.Pages;

namespace Experiments.Tests.Web;

/// <summary>The new-run page's pre-flight check and learning-rate finder, against the API's answers.</summary>
public sealed class NewRunPageTests : DashboardContext
{
    private readonly Experiments.Domain.Datasets.DatasetView _iris = Samples.Dataset("iris", [4], ["setosa", "versicolor", "virginica"]);
    private readonly ModelView _mlp;

    public NewRunPageTests()
    {
        Datasets.Items.Add(_iris);
        var layers = new[] { new LayerSpec("linear", Json(new { outFeatures = 16 })), new LayerSpec("relu"), new LayerSpec("linear", Json(new { outFeatures = 3 })) };
        _mlp = new ModelView(Guid.NewGuid(), "iris-mlp", 1, layers, DateTimeOffset.UtcNow, null, null);
        Models.Items.Add(_mlp);
    }

    [Fact]
    public async Task Check_shows_the_preflight_report_with_its_warnings_eta_layers_and_gradients_before_start()
    {
        var report = Report(["layers[0].weight and layers[0].bias received no gradient on the first batch (none or all zeros), so they will never learn."]);
        Api.Answers["/api/runs/preflight"] = Task.FromResult(Ok(report));
        var page = Render<NewRun>();

        page.Find("#overfit").Change(true);
        await page.Find("#check").ClickAsync(new());

        page.WaitForAssertion(() => Assert.NotNull(page.Find("#preflight")));
        Assert.Equal("/api/runs/preflight?overfitSteps=100", Assert.Single(Api.Addresses.Select(address => address.PathAndQuery), url => url.StartsWith("/api/runs/preflight", StringComparison.Ordinal)));
        var sent = JsonSerializer.Deserialize<RunSpec>(Api.Requests.Single(request => request.Path == "/api/runs/preflight").Body, JsonConventions.Web)!;
        Assert.Equal((_iris.Id, _mlp.Id), (sent.DatasetId, sent.ModelId));
        Assert.Contains("layers[0].weight and layers[0].bias received no gradient", page.Find("#preflight-warnings").TextContent, StringComparison.Ordinal);
        Assert.Equal("1 min 30 s", page.Find("#preflight-eta").TextContent.Trim());
        Assert.Equal("1.099", page.Find("#preflight-initial-loss").TextContent.Trim());
        Assert.Equal(3, page.FindAll("#preflight-layers tbody tr").Count);
        Assert.Contains("invalid", page.Find("[data-parameter='layers[0].weight']").ClassList);
        Assert.DoesNotContain("invalid", page.Find("[data-parameter='layers[2].weight']").ClassList);
        Assert.Contains("setosa 40", page.Find("#preflight-splits").TextContent, StringComparison.Ordinal);
        Assert.StartsWith("Memorised", page.Find("#preflight-overfit").TextContent.Trim(), StringComparison.Ordinal);
        // Nothing was started.
        Assert.DoesNotContain(Api.Requests, request => request.Path == "/api/runs");
    }

    [Fact]
    public async Task A_refused_check_shows_the_apis_problem_at_the_field()
    {
        Api.Answers["/api/runs/preflight"] = Task.FromResult(new HttpResponseMessage(HttpStatusCode.BadRequest)
        {
            Content = JsonContent.Create(new { title = "The run spec is not valid.", errors = new Dictionary<string, string[]> { ["batchSize"] = ["needs 9 GiB, more than the limit."] } }),
        });
        var page = Render<NewRun>();

        await page.Find("#check").ClickAsync(new());

        page.WaitForAssertion(() => Assert.Contains("needs 9 GiB", page.Markup, StringComparison.Ordinal));
        Assert.Empty(page.FindAll("#preflight"));
        Assert.Contains("The run spec is not valid.", page.Find(".problem").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Find_learning_rate_draws_the_sweep_and_its_suggestion_goes_into_the_optimizers_lr()
    {
        var rates = Enumerable.Range(0, 20).Select(step => 1e-6 * Math.Pow(10, step / 3.0)).ToList();
        var losses = rates.Select(lr => 1.1 - 0.1 * Math.Log10(lr / 1e-6)).ToList();
        var result = new LearningRateRangeTestResult(new RunSpec { Seed = 4 }, "cpu", 1e-6, 1, 20, rates, losses, losses, 0.9, 0.0031622776601683794, 7, 0.1,
            "steepest descent of the smoothed loss against log10(lr) among steps 2 to 15", null, []);
        Api.Answers["/api/runs/lr-range-test"] = Task.FromResult(Ok(result));
        var page = Render<NewRun>();

        await page.Find("#find-lr").ClickAsync(new());
        page.WaitForAssertion(() => Assert.NotNull(page.Find("#lr-suggestion")));
        Assert.Contains("Suggested learning rate 0.00316", page.Find("#lr-suggestion").TextContent, StringComparison.Ordinal);
        Assert.NotNull(page.Find("#chart-lr-range"));
        await page.Find("#use-lr").ClickAsync(new());

        Assert.Equal("0.00316", page.Find("[data-field='optimizer.lr']").GetAttribute("value"));
    }

    private static Dictionary<string, JsonElement> Json(object parameters) =>
        JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(JsonSerializer.Serialize(parameters))!;

    private static HttpResponseMessage Ok<T>(T value) => new(HttpStatusCode.OK) { Content = JsonContent.Create(value, options: JsonConventions.Web) };

    private PreflightReport Report(IReadOnlyList<string> warnings)
    {
        var layers = new List<LayerSummary> { new(0, "linear", [16], 80, 128), new(1, "relu", [16], 0, 16), new(2, "linear", [3], 51, 96) };
        var model = ModelValidation.From(new ModelSummary([4], layers, 131), 16);
        return new PreflightReport(
            new RunSpec { DatasetId = _iris.Id, ModelId = _mlp.Id, Epochs = 30, BatchSize = 16, Seed = 7 },
            "cpu",
            model,
            new PreflightTiming(10, 0.002, 8000, 8, 2.9, 0.1, 30, 90, 2),
            InitialLoss.Of(Math.Log(3), new Experiments.Domain.Losses.LossSpec("crossEntropy"), [40, 40, 40]),
            [
                new ParameterGradient("layers[0].weight", [16, 4], 0, GradientState.Zero),
                new ParameterGradient("layers[0].bias", [16], 0, GradientState.Zero),
                new ParameterGradient("layers[2].weight", [3, 16], 0.4, GradientState.Flowing),
                new ParameterGradient("layers[2].bias", [3], 0.2, GradientState.Flowing),
            ],
            new DataChecks([new SplitLabels("train", 120, [40, 40, 40], 1, null, null), new SplitLabels("test", 30, [10, 10, 10], 1, null, null)],
                [new SplitDuplicates("test", 0, [])], new ConstantFeatures(0, 4, [])),
            new OverfitCheck(100, 16, 1.1, 0.01, 1, [new LossPoint(0, 1.1), new LossPoint(100, 0.01)], true, "final loss below 5 % of the initial"),
            warnings);
    }
}
