using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using Experiments.Api.Persistence;
using Experiments.Api.Runs;
using Experiments.Domain.Datasets;
using Experiments.Domain.Models;
using Experiments.Domain.Runs;
using Experiments.Tests.Support;
using Experiments.Tests.Training.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Experiments.Tests.Api;

/// <summary>
/// Pre-flight and the learning-rate range test on real TorchSharp and real data: the MNIST sample (8,000 training and 2,000
/// test digits), Iris, and small CSV files with known flaws.
/// </summary>
[Collection(OneAtATime.Name)]
public sealed class DiagnosticsTests(ApiFactory factory, ITestOutputHelper output) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private static readonly object[] MnistMlp =
    [
        new { type = "flatten" },
        new { type = "linear", outFeatures = 128 },
        new { type = "relu" },
        new { type = "linear", outFeatures = 10 },
    ];

    [Fact]
    public async Task Preflight_of_a_fresh_mnist_classifier_starts_within_a_few_percent_of_ln_10_with_every_gradient_flowing()
    {
        var mnist = await ImportMnistAsync();
        var mlp = await CreateModelAsync("mnist-mlp", MnistMlp);
        var runsBefore = await RunCountAsync();

        var report = await PreflightAsync(Spec(mnist.Id, mlp.Id, epochs: 4, validationFraction: 0.1));

        Assert.Equal("cpu", report.Device);
        Assert.Equal(1, report.Spec.Seed);
        Assert.True(Math.Abs(report.InitialLoss.Value / Math.Log(10) - 1) < 0.03, $"initial loss {report.InitialLoss.Value}, ln 10 = {Math.Log(10)}");
        Assert.Equal(Math.Log(10), report.InitialLoss.Expected!.Value, 12);
        Assert.Contains("ln 10", report.InitialLoss.Assumption, StringComparison.Ordinal);
        // The digits are nearly balanced: the entropy of their distribution is just under ln 10.
        Assert.InRange(report.InitialLoss.LabelEntropy!.Value, Math.Log(10) - 0.01, Math.Log(10));
        Assert.Equal(["layers[1].weight", "layers[1].bias", "layers[3].weight", "layers[3].bias"], report.Gradients.Select(gradient => gradient.Name));
        Assert.All(report.Gradients, gradient => Assert.Equal(GradientState.Flowing, gradient.State));
        Assert.Equal([128L, 784L], report.Gradients[0].Shape);

        // The layer table: 784·128 + 128 and 128·10 + 10 parameters; a multiply-add counts two FLOPs.
        Assert.Equal([0L, 100_480L, 0L, 1_290L], report.Model.Layers.Select(layer => layer.Parameters));
        Assert.Equal(101_770, report.Model.TotalParameters);
        Assert.Equal(2L * 784 * 128, report.Model.Layers[1].Flops);
        Assert.Equal(64, report.Model.Estimate.BatchSize);

        // The validation split is held out of the training split as training holds it out.
        Assert.Equal(["train", "validation", "test"], report.Data.Splits.Select(split => split.Split));
        Assert.Equal((7200, 800, 2000), (report.Data.Splits[0].Samples, report.Data.Splits[1].Samples, report.Data.Splits[2].Samples));
        Assert.Equal(mnist.ClassCounts.Sum(), report.Data.Splits.Sum(split => split.ClassCounts.Sum()));
        Assert.All(report.Data.Splits, split => Assert.InRange(split.ImbalanceRatio!.Value, 1, 2));
        Assert.Equal(["validation", "test"], report.Data.Duplicates.Select(duplicates => duplicates.Split));
        // Pixels at the border of every digit are blank.
        Assert.InRange(report.Data.ConstantFeatures.Count, 1, 200);
        Assert.Equal(0, report.Data.ConstantFeatures.First[0]);

        // 7,200 samples in batches of 64: 113 batches an epoch; the ETA is four epochs and four evaluations.
        var timing = report.Timing;
        Assert.Equal(113, timing.BatchesPerEpoch);
        Assert.InRange(timing.TimedBatches, 1, 10);
        Assert.True(timing.SecondsPerBatch > 0 && timing.SecondsPerEvaluation > 0, $"{timing}");
        Assert.Equal(4, timing.Evaluations);
        Assert.Equal(4 * timing.SecondsPerEpoch + 4 * timing.SecondsPerEvaluation, timing.EstimatedSeconds, 9);
        Assert.Null(report.Overfit);
        Assert.DoesNotContain(report.Warnings, warning => warning.Contains("loss", StringComparison.Ordinal) || warning.Contains("gradient", StringComparison.Ordinal));
        Assert.Equal(runsBefore, await RunCountAsync());
        output.WriteLine(string.Join("\n", report.Warnings));
    }

    [Fact]
    public async Task Preflight_names_the_layers_that_get_no_gradient_behind_a_softmax_over_one_value()
    {
        var mnist = await ImportMnistAsync();
        // A softmax over a single value is always 1: whatever comes before it gets a gradient of exactly zero.
        var squashed = await CreateModelAsync("mnist-dead", new { type = "flatten" }, new { type = "linear", outFeatures = 1 }, new { type = "softmax" },
            new { type = "linear", outFeatures = 10 });

        var report = await PreflightAsync(Spec(mnist.Id, squashed.Id));

        Assert.Equal(GradientState.Zero, report.Gradients.Single(gradient => gradient.Name == "layers[1].weight").State);
        Assert.Equal(GradientState.Zero, report.Gradients.Single(gradient => gradient.Name == "layers[1].bias").State);
        Assert.Equal(0, report.Gradients.Single(gradient => gradient.Name == "layers[1].weight").Norm);
        Assert.Equal(GradientState.Flowing, report.Gradients.Single(gradient => gradient.Name == "layers[3].bias").State);
        var warning = Assert.Single(report.Warnings, warning => warning.Contains("no gradient", StringComparison.Ordinal));
        Assert.StartsWith("layers[1].weight and layers[1].bias received no gradient on the first batch", warning, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_overfit_check_memorises_one_mnist_batch_with_the_mlp_and_adam()
    {
        var mnist = await ImportMnistAsync();
        var mlp = await CreateModelAsync("mnist-mlp", MnistMlp);

        var report = await PreflightAsync(Spec(mnist.Id, mlp.Id, lr: 0.001), "?overfitSteps=100");

        var overfit = report.Overfit!;
        Assert.Equal((100, 64), (overfit.Steps, overfit.BatchSize));
        Assert.True(overfit.Memorized, $"{overfit.InitialLoss} → {overfit.FinalLoss}, accuracy {overfit.FinalAccuracy}");
        Assert.True(overfit.FinalLoss < 0.05 * overfit.InitialLoss, $"{overfit.InitialLoss} → {overfit.FinalLoss}");
        Assert.Equal(1.0, overfit.FinalAccuracy);
        Assert.Equal(report.InitialLoss.Value, overfit.InitialLoss, 5);
        Assert.Equal((0, 100), (overfit.Curve[0].Step, overfit.Curve[^1].Step));
        Assert.InRange(overfit.Curve.Count, 10, 22);
        Assert.DoesNotContain(report.Warnings, warning => warning.Contains("one batch", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_overfit_check_that_cannot_memorise_says_so()
    {
        var mnist = await ImportMnistAsync();
        var mlp = await CreateModelAsync("mnist-mlp", MnistMlp);

        // A learning rate a million times too small moves nothing in 20 steps.
        var report = await PreflightAsync(Spec(mnist.Id, mlp.Id, lr: 1e-9), "?overfitSteps=20");

        Assert.False(report.Overfit!.Memorized);
        Assert.Contains(report.Warnings, warning => warning.StartsWith("Trained on one batch for 20 steps", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_range_tests_suggestion_for_adam_on_the_mlp_is_within_a_decade_of_a_learning_rate_that_trains_well()
    {
        var mnist = await ImportMnistAsync();
        var mlp = await CreateModelAsync("mnist-mlp", MnistMlp);
        var runsBefore = await RunCountAsync();

        var response = await _client.PostAsJsonAsync("/api/runs/lr-range-test", Spec(mnist.Id, mlp.Id));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        var sweep = await response.ReadAsAsync<LearningRateRangeTestResult>();
        output.WriteLine($"suggested {sweep.SuggestedLr} ({sweep.Method}); minimum at {sweep.MinimumLr}; stopped: {sweep.StoppedEarly}");

        Assert.Equal((1e-8, 1.0, 100), (sweep.MinLr, sweep.MaxLr, sweep.Steps));
        Assert.Equal(sweep.LearningRates.Count, sweep.Losses.Count);
        Assert.Equal(sweep.LearningRates.Count, sweep.SmoothedLosses.Count);
        Assert.Equal(1e-8, sweep.LearningRates[0], 15);
        Assert.True(sweep.LearningRates.Zip(sweep.LearningRates.Skip(1)).All(pair => pair.Second > pair.First));
        Assert.InRange(sweep.SuggestedLr!.Value, 1e-4, 1e-2);
        Assert.True(sweep.SuggestedLr <= sweep.MinimumLr, $"{sweep.SuggestedLr} above the minimum's {sweep.MinimumLr}");
        Assert.Equal(sweep.SuggestedLr, sweep.LearningRates[sweep.SuggestedStep!.Value]);
        Assert.Equal(runsBefore, await RunCountAsync());

        // 1e-3 trains the MLP well in one epoch, and the suggestion lies within a decade of it.
        Assert.InRange(Math.Abs(Math.Log10(sweep.SuggestedLr.Value) - Math.Log10(1e-3)), 0, 1);
        var created = await _client.PostAsJsonAsync("/api/runs", Spec(mnist.Id, mlp.Id, lr: 1e-3, epochs: 1));
        Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        var run = await Workflow.WaitUntilFinishedAsync(_client, (await created.ReadAsAsync<RunView>()).Id);
        Assert.True(run.Status == RunStatus.Succeeded, run.Error);
        Assert.True(run.Metrics[0].TestAccuracy > 0.88, $"test accuracy {run.Metrics[0].TestAccuracy} at lr 1e-3");
    }

    [Fact]
    public async Task Data_checks_find_the_test_samples_copied_from_training_the_constant_feature_and_the_imbalance()
    {
        // 24 training rows, the middle feature always 5, 22 cats and 2 dogs; test rows 0 and 2 repeat training rows 5 and 7.
        var train = new StringBuilder("a,b,c,animal\n");
        for (var row = 0; row < 24; row++)
        {
            train.Append(CultureInfo.InvariantCulture, $"{row * 0.37:F2},5,{row % 7 + row * 0.01:F2},{(row < 22 ? "cat" : "dog")}\n");
        }
        var test = "1.85,5,5.05,cat\n9.90,4,0.11,dog\n2.59,5,0.07,cat\n8.80,6,1.50,dog\n";
        var dataset = await ImportFilesAsync("flawed", train.ToString(), "a,b,c,animal\n" + test);
        var model = await CreateModelAsync("flawed-mlp", new { type = "linear", outFeatures = 8 }, new { type = "relu" }, new { type = "linear", outFeatures = 2 });

        var report = await PreflightAsync(Spec(dataset.Id, model.Id, batchSize: 8));

        var duplicates = Assert.Single(report.Data.Duplicates);
        Assert.Equal(("test", 2), (duplicates.Split, duplicates.Count));
        Assert.Equal([new DuplicatePair(0, 5), new DuplicatePair(2, 7)], duplicates.Examples);
        Assert.Equal((1, 3L), (report.Data.ConstantFeatures.Count, report.Data.ConstantFeatures.Features));
        Assert.Equal([1L], report.Data.ConstantFeatures.First);
        Assert.Equal([22, 2], report.Data.Splits[0].ClassCounts);
        Assert.Equal(11, report.Data.Splits[0].ImbalanceRatio);
        Assert.Equal([2, 2], report.Data.Splits[1].ClassCounts);
        Assert.Contains(report.Warnings, warning => warning.StartsWith("2 test samples are exact copies of training samples (e.g. test[0] = train[5], test[2] = train[7])", StringComparison.Ordinal));
        Assert.Contains(report.Warnings, warning => warning.StartsWith("1 of the 3 features have the same value in every training sample (first: 1)", StringComparison.Ordinal));
        Assert.Contains(report.Warnings, warning => warning.StartsWith("The training split is badly imbalanced: class 'cat' has 22 samples, class 'dog' only 2 (11 to 1).", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_regression_run_gets_its_target_distribution_an_overfit_by_loss_and_no_expected_initial_loss()
    {
        var random = new Random(5);
        var csv = new StringBuilder("a,b,y\n");
        for (var row = 0; row < 120; row++)
        {
            var (a, b) = (random.NextDouble(), random.NextDouble());
            csv.Append(CultureInfo.InvariantCulture, $"{a:F4},{b:F4},{2 * a - b + 0.5:F4}\n");
        }
        var import = await _client.PostAsync("/api/datasets", Workflow.CsvForm(Encoding.UTF8.GetBytes(csv.ToString()), "line.csv", ("task", "regression")));
        Assert.True(import.IsSuccessStatusCode, await import.Content.ReadAsStringAsync());
        var line = await import.ReadAsAsync<DatasetView>();
        var model = await CreateModelAsync("line-mlp", new { type = "linear", outFeatures = 16 }, new { type = "relu" }, new { type = "linear", outFeatures = 1 });
        var spec = new { datasetId = line.Id, modelId = model.Id, optimizer = new { type = "adam", lr = 0.01 }, loss = new { type = "mse" }, epochs = 5, batchSize = 16, seed = 2, validationFraction = 0.2 };

        var response = await _client.PostAsJsonAsync("/api/runs/preflight?overfitSteps=300", spec);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        var report = await response.ReadAsAsync<PreflightReport>();
        var sweep = await _client.PostAsJsonAsync("/api/runs/lr-range-test?minLr=1e-6&maxLr=10&steps=40", spec);

        Assert.Null(report.InitialLoss.Expected);
        Assert.Null(report.InitialLoss.LabelEntropy);
        Assert.Equal(["train", "validation", "test"], report.Data.Splits.Select(split => split.Split));
        Assert.All(report.Data.Splits, split => Assert.Empty(split.ClassCounts));
        Assert.All(report.Data.Splits, split => Assert.InRange(split.TargetMean!.Value, 0, 1.5));
        Assert.Null(report.Overfit!.FinalAccuracy);
        Assert.True(report.Overfit.Memorized, $"{report.Overfit.InitialLoss} → {report.Overfit.FinalLoss}");
        Assert.Equal(HttpStatusCode.OK, sweep.StatusCode);
    }

    [Theory]
    [InlineData("/api/runs/preflight?overfitSteps=1001", "overfitSteps", "must be between 0 (no overfit check) and 1000")]
    [InlineData("/api/runs/preflight?overfitSteps=-1", "overfitSteps", "must be between 0 (no overfit check) and 1000")]
    [InlineData("/api/runs/lr-range-test?minLr=0", "minLr", "must be a finite number greater than 0")]
    [InlineData("/api/runs/lr-range-test?minLr=-1e-3", "minLr", "must be a finite number greater than 0")]
    [InlineData("/api/runs/lr-range-test?maxLr=NaN", "maxLr", "must be a finite number greater than 0")]
    [InlineData("/api/runs/lr-range-test?maxLr=Infinity", "maxLr", "must be a finite number greater than 0")]
    [InlineData("/api/runs/lr-range-test?minLr=0.1&maxLr=0.01", "maxLr", "must be greater than minLr (0.1); got 0.01.")]
    [InlineData("/api/runs/lr-range-test?minLr=0.1&maxLr=0.1", "maxLr", "must be greater than minLr (0.1); got 0.1.")]
    [InlineData("/api/runs/lr-range-test?steps=9", "steps", "must be between 10 and 1000")]
    [InlineData("/api/runs/lr-range-test?steps=1001", "steps", "must be between 10 and 1000")]
    [InlineData("/api/runs/lr-range-test?steps=many", "steps", "")]
    [InlineData("/api/runs/lr-range-test?stepz=50", "stepz", "did you mean 'steps'?")]
    public async Task A_bad_query_parameter_is_a_400_naming_it_and_nothing_is_computed_or_stored(string url, string field, string message)
    {
        var (datasetId, modelId) = await Workflow.ImportIrisAndMlpAsync(_client);
        var runsBefore = await RunCountAsync();

        var problem = await ProblemAssertions.ExpectProblemAsync(await _client.PostAsJsonAsync(url, Spec(datasetId, modelId)));

        Assert.Contains(field, problem.Errors.Keys);
        Assert.Contains(message, Assert.Single(problem.Errors[field]), StringComparison.Ordinal);
        Assert.Equal(runsBefore, await RunCountAsync());
    }

    [Theory]
    [InlineData("/api/runs/preflight")]
    [InlineData("/api/runs/lr-range-test")]
    public async Task A_bad_spec_gets_the_same_400_as_creating_the_run(string path)
    {
        var (datasetId, modelId) = await Workflow.ImportIrisAndMlpAsync(_client);
        object[] specs =
        [
            new { },
            new { datasetId, modelId, optimizer = new { type = "adam", lr = -1 }, loss = new { type = "crossEntropy" }, epochs = 0 },
            new { datasetId, modelId = Guid.NewGuid(), optimizer = new { type = "adam" }, loss = new { type = "crossEntropy" }, epochs = 1 },
            new { datasetId, modelId, optimizer = new { type = "adam" }, loss = new { type = "mse" }, epochs = 1 },
            new { datasetId, modelId, optimizer = new { type = "adam" }, loss = new { type = "crossEntropy" }, epochs = 1, validationFraction = 1.5 },
            new { datasetId, modelId, optimizer = new { type = "adam" }, loss = new { type = "crossEntropy" }, epochs = 1, batchSize = 1_000_001 },
        ];
        var runsBefore = await RunCountAsync();
        foreach (var spec in specs)
        {
            var asRun = await ProblemAssertions.ExpectProblemAsync(await _client.PostAsJsonAsync("/api/runs", spec));
            var asCheck = await ProblemAssertions.ExpectProblemAsync(await _client.PostAsJsonAsync(path, spec));

            Assert.Equal(asRun.Title, asCheck.Title);
            Assert.Equal(asRun.Errors.OrderBy(pair => pair.Key).Select(pair => (pair.Key, string.Join("|", pair.Value))),
                asCheck.Errors.OrderBy(pair => pair.Key).Select(pair => (pair.Key, string.Join("|", pair.Value))));
        }
        Assert.Equal(runsBefore, await RunCountAsync());
    }

    [Fact]
    public async Task Iris_gets_a_preflight_and_a_range_test_whose_only_finding_can_be_its_duplicate_flowers()
    {
        var (datasetId, modelId) = await Workflow.ImportIrisAndMlpAsync(_client);

        var report = await PreflightAsync(Spec(datasetId, modelId, batchSize: 16, lr: 0.01), "?overfitSteps=200");
        var response = await _client.PostAsJsonAsync("/api/runs/lr-range-test?minLr=1e-5&maxLr=10&steps=60", Spec(datasetId, modelId, batchSize: 16));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        var sweep = await response.ReadAsAsync<LearningRateRangeTestResult>();

        output.WriteLine(string.Join("\n", report.Warnings));
        Assert.True(report.Overfit!.Memorized, $"{report.Overfit}");
        Assert.Equal(Math.Log(3), report.InitialLoss.Expected!.Value, 12);
        // 40 flowers of each species in the training split: the classes are balanced.
        Assert.Equal(Math.Log(3), report.InitialLoss.LabelEntropy!.Value, 12);
        Assert.Equal(1, report.Data.Splits[0].ImbalanceRatio);
        // Iris has a few flowers measured the same; one may land in the test split.
        Assert.All(report.Warnings, warning => Assert.Contains("exact copies of training samples", warning, StringComparison.Ordinal));
        Assert.Equal(8, report.Timing.BatchesPerEpoch);
        output.WriteLine($"suggested {sweep.SuggestedLr} ({sweep.Method}); minimum at {sweep.MinimumLr}; stopped: {sweep.StoppedEarly}; {string.Join(" ", sweep.Warnings)}");
        output.WriteLine(string.Join("\n", sweep.LearningRates.Select((lr, i) => string.Create(CultureInfo.InvariantCulture, $"{lr:E2} {sweep.Losses[i]:F4} {sweep.SmoothedLosses[i]:F4}"))));
        Assert.Equal(60, sweep.Steps);
        Assert.InRange(sweep.LearningRates.Count, 10, 60);
        Assert.InRange(sweep.SuggestedLr!.Value, 1e-5, sweep.MinimumLr!.Value);
    }

    [Fact]
    public async Task A_diagnostic_while_another_computes_is_answered_429_with_retry_after_and_computes_once_it_is_done()
    {
        var (datasetId, modelId) = await Workflow.ImportIrisAndMlpAsync(_client);
        var gate = factory.Services.GetRequiredService<DiagnosticsGate>();

        // The permit a computing check holds (Experiments:MaxConcurrentDiagnostics is 1).
        HttpResponseMessage busy, free;
        using (var computing = gate.TryEnter())
        {
            Assert.NotNull(computing);
            busy = await _client.PostAsJsonAsync("/api/runs/lr-range-test?steps=10", Spec(datasetId, modelId));
        }
        free = await _client.PostAsJsonAsync("/api/runs/preflight", Spec(datasetId, modelId));

        var problem = await ProblemAssertions.ExpectProblemAsync(busy, HttpStatusCode.TooManyRequests);
        Assert.Equal("Diagnostics are busy.", problem.Title);
        Assert.Contains("Experiments:MaxConcurrentDiagnostics", problem.Detail, StringComparison.Ordinal);
        Assert.InRange(int.Parse(busy.Headers.GetValues("Retry-After").Single(), CultureInfo.InvariantCulture), 1, 60);
        Assert.Equal(HttpStatusCode.OK, free.StatusCode);
    }

    [Fact]
    public async Task A_check_whose_client_goes_away_stops_and_frees_its_permit()
    {
        var mnist = await ImportMnistAsync();
        var mlp = await CreateModelAsync("mnist-mlp", MnistMlp);
        var gate = factory.Services.GetRequiredService<DiagnosticsGate>();

        // A thousand steps on 2,000 digits would take a minute; the client gives up after half a second.
        using var gone = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            _client.PostAsJsonAsync("/api/runs/preflight?overfitSteps=1000", Spec(mnist.Id, mlp.Id, batchSize: 2000), gone.Token));

        var clock = System.Diagnostics.Stopwatch.StartNew();
        IDisposable? permit;
        while ((permit = gate.TryEnter()) is null)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "the aborted check still holds its permit");
            await Task.Delay(50);
        }
        permit.Dispose();
    }

    private static object Spec(Guid datasetId, Guid modelId, double lr = 0.001, int batchSize = 64, int epochs = 3, long seed = 1, double? validationFraction = null) => new
    {
        datasetId,
        modelId,
        optimizer = new { type = "adam", lr },
        loss = new { type = "crossEntropy" },
        epochs,
        batchSize,
        seed,
        validationFraction,
    };

    private async Task<PreflightReport> PreflightAsync(object spec, string query = "")
    {
        var response = await _client.PostAsJsonAsync("/api/runs/preflight" + query, spec);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return await response.ReadAsAsync<PreflightReport>();
    }

    private async Task<int> RunCountAsync()
    {
        await using var scope = factory.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ExperimentsDbContext>().Runs.CountAsync();
    }

    private async Task<DatasetView> ImportMnistAsync()
    {
        var response = await _client.PostAsync("/api/datasets", DatasetFiles.Form("mnist-10k.npz",
            await File.ReadAllBytesAsync(Path.Combine(AppContext.BaseDirectory, "samples", "mnist-10k.npz")), ("scale", "1/255"), ("reshape", "1,28,28")));
        Assert.True(response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.ReadAsAsync<DatasetView>();
    }

    private async Task<DatasetView> ImportFilesAsync(string name, string train, string test)
    {
        var response = await _client.PostAsync("/api/datasets", DatasetFiles.Form(
            [("file", $"{name}.csv", Encoding.UTF8.GetBytes(train)), ("testFile", $"{name}-test.csv", Encoding.UTF8.GetBytes(test))], ("name", name)));
        Assert.True(response.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.ReadAsAsync<DatasetView>();
    }

    private async Task<ModelView> CreateModelAsync(string name, params object[] layers)
    {
        var response = await _client.PostAsJsonAsync("/api/models", new { name, layers });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return await response.ReadAsAsync<ModelView>();
    }
}
