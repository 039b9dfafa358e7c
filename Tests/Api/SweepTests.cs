using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Experiments.Api.Sweeps;
using Experiments.Domain;
using Experiments.Domain.Runs;
using Experiments.Domain.Sweeps;
using Experiments.Tests.Support;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace Experiments.Tests.Api;

/// <summary>Sweeps over real training on Iris: trials are ordinary runs, drawn from the seed, pruned by asha, cancelled with their sweep.</summary>
[Collection(OneAtATime.Name)]
public sealed class SweepTests(ApiFactory factory) : SweepSuite<ApiFactory>(factory), IClassFixture<ApiFactory>;

/// <summary>The same suite on PostgreSQL.</summary>
[Collection(PostgreSqlCollection.Name)]
public sealed class SweepOnPostgreSqlTests(PostgreSqlApiFactory factory) : SweepSuite<PostgreSqlApiFactory>(factory), IClassFixture<PostgreSqlApiFactory>;

public abstract class SweepSuite<TFactory>(TFactory factory) where TFactory : ApiFactory
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task A_random_sweep_trains_ordinary_runs_and_draws_the_same_trials_again_from_its_seed()
    {
        var (datasetId, modelId) = await Workflow.ImportIrisAndMlpAsync(_client);
        object Spec() => new
        {
            name = "iris lr × batch",
            @base = new { datasetId, modelId, epochs = 3, optimizer = new { type = "adam" }, loss = CrossEntropy },
            parameters = new Dictionary<string, object>
            {
                ["optimizer.lr"] = new { type = "logUniform", min = 0.001, max = 0.1 },
                ["batchSize"] = new { type = "choice", values = new[] { 8, 16, 32 } },
                ["layers[0].outFeatures"] = new { type = "logInt", min = 4, max = 32 },
            },
            method = "random",
            budget = new { maxTrials = 3, concurrency = 2 },
            seed = 1234,
        };
        var first = await CreateAsync(Spec());
        Assert.Equal(SweepStatus.Running, first.Status);
        Assert.Equal(2, first.Trials.Count);
        var second = await CreateAsync(Spec());

        var finishedFirst = await WaitUntilFinishedAsync(first.Id);
        var finishedSecond = await WaitUntilFinishedAsync(second.Id);

        Assert.Equal(SweepStatus.Succeeded, finishedFirst.Status);
        Assert.Equal([1, 2, 3], finishedFirst.Trials.Select(trial => trial.Number));
        Assert.Equal(Show(finishedFirst.Trials), Show(finishedSecond.Trials));
        Assert.All(finishedFirst.Trials, trial => Assert.Equal(RunStatus.Succeeded, trial.Status));
        Assert.All(finishedFirst.Trials, trial => Assert.Equal(3, trial.Parameters.Count));
        Assert.Equal(SweepMetric.ValidationAccuracy, finishedFirst.Spec.Metric);
        Assert.Equal(SweepSpecValidator.DefaultValidationFraction, finishedFirst.Spec.Base!.ValidationFraction);
        Assert.Equal(9, finishedFirst.Budget.EpochsUsed);
        var best = finishedFirst.Trials.MaxBy(trial => trial.Value)!;
        Assert.Equal(best.RunId, finishedFirst.Best!.RunId);

        // A trial is an ordinary run, tagged with its sweep and values; a changed layer width trains a model version of its own.
        var run = await (await _client.GetAsync($"/api/runs/{best.RunId}")).ReadAsAsync<RunView>();
        Assert.Equal(first.Id, run.SweepId);
        Assert.Equal(best.Number, run.TrialNumber);
        Assert.Equal(run.BestValidationAccuracy, best.Value);
        Assert.Equal(best.Parameters["batchSize"].GetInt32(), run.Spec.BatchSize);
        Assert.Equal(best.Parameters["optimizer.lr"].GetDouble(), run.Spec.Optimizer!.Double("lr"));
        Assert.Equal(1234, run.Spec.Seed);
        var width = best.Parameters["layers[0].outFeatures"].GetInt32();
        if (width != 16)
        {
            Assert.NotEqual(modelId, run.ModelId);
            Assert.Contains($"(sweep {first.Id.ToString("N")[..8]})", run.ModelName, StringComparison.Ordinal);
            var model = await (await _client.GetAsync($"/api/models/{run.ModelId}")).ReadAsAsync<Experiments.Domain.Models.ModelView>();
            Assert.Equal(width, model.Layers[0].Int("outFeatures"));
        }

        var trialRuns = await (await _client.GetAsync($"/api/runs?sweepId={first.Id}")).ReadAsAsync<Page<RunListItem>>();
        Assert.Equal(finishedFirst.Trials.Select(trial => trial.RunId).Order(), trialRuns.Items.Select(run => run.Id).Order());
        Assert.Equal(3, trialRuns.TotalCount);

        var list = await (await _client.GetAsync("/api/sweeps")).ReadAsAsync<Page<SweepListItem>>();
        var listed = Assert.Single(list.Items, item => item.Id == first.Id);
        Assert.Equal(3, listed.TrialsFinished);
        Assert.Equal(finishedFirst.Best.Value, listed.BestValue);
    }

    [Fact]
    public async Task Asha_stops_the_losing_trials_early_and_says_by_which_rule_rung_and_values()
    {
        var (datasetId, modelId) = await Workflow.ImportIrisAndMlpAsync(_client);
        var sweep = await CreateAsync(new
        {
            @base = new { datasetId, modelId, epochs = 8, batchSize = 16, optimizer = new { type = "sgd" }, loss = CrossEntropy },
            parameters = new Dictionary<string, object>
            {
                ["optimizer.lr"] = new { type = "choice", values = new[] { 0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3 } },
            },
            method = "grid",
            earlyTermination = new { type = "asha", minEpochs = 1, reductionFactor = 2 },
            seed = 7,
        });
        var finished = await WaitUntilFinishedAsync(sweep.Id);

        Assert.Equal(SweepStatus.Succeeded, finished.Status);
        Assert.Equal(8, finished.Trials.Count);
        Assert.Equal(8, finished.Budget.MaxTrials);
        var pruned = finished.Trials.Where(trial => trial.StopReason == StopReason.Pruned).ToList();
        Assert.NotEmpty(pruned);
        Assert.All(pruned, trial =>
        {
            Assert.Equal(RunStatus.Succeeded, trial.Status);
            Assert.Equal("asha", trial.Pruning!.Rule);
            Assert.Contains(trial.Pruning.Epoch, new[] { 1, 2, 4 });
            Assert.True(trial.Pruning.Value < trial.Pruning.Threshold);
            Assert.True(trial.Pruning.Compared >= 2);
            Assert.True(trial.EpochsCompleted < 8);
        });
        Assert.Equal(pruned.Sum(trial => 8 - trial.EpochsCompleted), finished.Budget.EpochsSaved);
        Assert.Equal(finished.Trials.Sum(trial => trial.EpochsCompleted), finished.Budget.EpochsUsed);
        Assert.Single(finished.Importance);

        var log = await (await _client.GetAsync($"/api/runs/{pruned[0].RunId}/logs")).ReadAsAsync<Page<RunLogLine>>();
        Assert.Contains(log.Items, line => line.Message.Contains($"pruned by asha at rung {pruned[0].Pruning!.Epoch}", StringComparison.Ordinal));
        var run = await (await _client.GetAsync($"/api/runs/{pruned[0].RunId}")).ReadAsAsync<RunView>();
        Assert.Equal(StopReason.Pruned, run.StopReason);
        Assert.Equal(pruned[0].Pruning, run.Pruning);
    }

    [Fact]
    public async Task A_categorical_optimizer_type_searches_its_own_sub_space_only_when_chosen()
    {
        var (datasetId, modelId) = await Workflow.ImportIrisAndMlpAsync(_client);
        var sweep = await CreateAsync(new
        {
            @base = new { datasetId, modelId, epochs = 2, optimizer = new { type = "adam", lr = 0.01 }, loss = CrossEntropy },
            parameters = new Dictionary<string, object>
            {
                ["optimizer.type"] = new
                {
                    type = "choice",
                    options = new object[]
                    {
                        new { value = "sgd", parameters = new Dictionary<string, object> { ["optimizer.momentum"] = new { type = "choice", values = new[] { 0.0, 0.9 } } } },
                        new { value = "adam" },
                    },
                },
            },
            method = "grid",
            budget = new { concurrency = 3 },
        });
        var finished = await WaitUntilFinishedAsync(sweep.Id);

        Assert.Equal(SweepStatus.Succeeded, finished.Status);
        Assert.Equal(3, finished.Trials.Count);
        foreach (var trial in finished.Trials)
        {
            var run = await (await _client.GetAsync($"/api/runs/{trial.RunId}")).ReadAsAsync<RunView>();
            var type = trial.Parameters["optimizer.type"].GetString();
            Assert.Equal(type, run.Spec.Optimizer!.Type);
            // The base's lr is kept: both types have it.
            Assert.Equal(0.01, run.Spec.Optimizer.Double("lr"));
            Assert.Equal(type == "sgd", trial.Parameters.ContainsKey("optimizer.momentum"));
            if (type == "sgd")
            {
                Assert.Equal(trial.Parameters["optimizer.momentum"].GetDouble(), run.Spec.Optimizer.Double("momentum"));
            }
        }
    }

    [Fact]
    public async Task Cancelling_a_sweep_cancels_its_queued_trials_and_stops_its_running_ones()
    {
        var (datasetId, modelId) = await Workflow.ImportIrisAndMlpAsync(_client);
        var sweep = await CreateAsync(new
        {
            @base = new { datasetId, modelId, epochs = 20_000, batchSize = 8, optimizer = new { type = "adam" }, loss = CrossEntropy },
            parameters = new Dictionary<string, object> { ["optimizer.lr"] = new { type = "uniform", min = 0.001, max = 0.01 } },
            budget = new { maxTrials = 10, concurrency = 2 },
        });
        Assert.Equal(2, sweep.Trials.Count);
        await Workflow.WaitUntilAsync(_client, sweep.Trials[0].RunId, run => run.EpochsCompleted > 0);

        var cancelled = await _client.PostAsync($"/api/sweeps/{sweep.Id}/cancel", null);
        Assert.Equal(HttpStatusCode.Accepted, cancelled.StatusCode);
        var finished = await WaitUntilFinishedAsync(sweep.Id);

        Assert.Equal(SweepStatus.Cancelled, finished.Status);
        Assert.Equal(2, finished.Trials.Count);
        Assert.All(finished.Trials, trial => Assert.Equal(RunStatus.Cancelled, trial.Status));
        var again = await _client.PostAsync($"/api/sweeps/{sweep.Id}/cancel", null);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);

        // The dataset goes only with force, and takes the finished sweep and its trials with it.
        var refused = await _client.DeleteAsync($"/api/datasets/{datasetId}");
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("force=true", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"/api/datasets/{datasetId}?force=true")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync($"/api/sweeps/{sweep.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync($"/api/runs/{sweep.Trials[0].RunId}")).StatusCode);
    }

    [Fact]
    public async Task A_dataset_searched_by_a_running_sweep_cannot_be_deleted()
    {
        var (datasetId, modelId) = await Workflow.ImportIrisAndMlpAsync(_client);
        var sweep = await CreateAsync(new
        {
            @base = new { datasetId, modelId, epochs = 20_000, optimizer = new { type = "adam" }, loss = CrossEntropy },
            parameters = new Dictionary<string, object> { ["batchSize"] = new { type = "choice", values = new[] { 8, 16 } } },
            method = "grid",
        });
        try
        {
            var refused = await _client.DeleteAsync($"/api/datasets/{datasetId}?force=true");
            Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
            Assert.Contains($"POST /api/sweeps/{sweep.Id}/cancel", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        finally
        {
            // Its trials would hold the fixture's one worker for good.
            Assert.Equal(HttpStatusCode.Accepted, (await _client.PostAsync($"/api/sweeps/{sweep.Id}/cancel", null)).StatusCode);
            await WaitUntilFinishedAsync(sweep.Id);
        }
    }

    [Fact]
    public async Task Controllers_racing_on_one_sweep_start_each_trial_once()
    {
        var (datasetId, modelId) = await Workflow.ImportIrisAndMlpAsync(_client);
        var sweep = await CreateAsync(new
        {
            @base = new { datasetId, modelId, epochs = 1, optimizer = new { type = "adam" }, loss = CrossEntropy },
            parameters = new Dictionary<string, object> { ["batchSize"] = new { type = "int", min = 4, max = 40 } },
            method = "grid",
            budget = new { maxTrials = 12, concurrency = 4 },
        });
        var controller = factory.Services.GetRequiredService<SweepController>();
        await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() => controller.AdvanceAsync(sweep.Id, CancellationToken.None))));
        var finished = await WaitUntilFinishedAsync(sweep.Id);

        Assert.Equal(Enumerable.Range(1, 12), finished.Trials.Select(trial => trial.Number));
        Assert.Equal(12, finished.Trials.Select(trial => trial.Parameters["batchSize"].GetInt32()).Distinct().Count());
    }

    [Fact]
    public async Task Bad_search_spaces_are_refused_naming_the_field_and_store_nothing()
    {
        var (datasetId, modelId) = await Workflow.ImportIrisAndMlpAsync(_client);
        var baseSpec = new { datasetId, modelId, epochs = 2, optimizer = new { type = "adam" }, loss = CrossEntropy };
        var (sweepsBefore, runsBefore, modelsBefore) = await CountsAsync();
        async Task Refused(object parameters, string field, string words, object? extra = null)
        {
            var response = await _client.PostAsJsonAsync("/api/sweeps", new { @base = baseSpec, parameters, budget = new { maxTrials = 2 } });
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, await response.Content.ReadAsStringAsync());
            var problem = await response.ReadAsAsync<ValidationProblemDetails>();
            Assert.True(problem.Errors.ContainsKey(field), $"expected {field} in {string.Join(", ", problem.Errors.Keys)}");
            Assert.Contains(words, string.Join(" ", problem.Errors[field]), StringComparison.Ordinal);
        }

        await Refused(new Dictionary<string, object> { ["optimiser.lr"] = new { type = "uniform", min = 0.1, max = 1 } }, "parameters.optimiser.lr", "Did you mean 'optimizer'?");
        await Refused(new Dictionary<string, object> { ["optimizer.lrr"] = new { type = "uniform", min = 0.1, max = 1 } }, "parameters.optimizer.lrr", "lrr");
        await Refused(new Dictionary<string, object> { ["layers[7].outFeatures"] = new { type = "int", min = 4, max = 8 } }, "parameters.layers[7].outFeatures", "no item [7]");
        await Refused(new Dictionary<string, object> { ["optimizer.lr"] = new { type = "uniform", min = 0.1, max = 0.1 } }, "parameters.optimizer.lr.max", "empty");
        await Refused(new Dictionary<string, object> { ["optimizer.lr"] = new { type = "uniform", min = 0.5, max = 0.1 } }, "parameters.optimizer.lr.max", "below min");
        await Refused(new Dictionary<string, object> { ["optimizer.lr"] = new { type = "logUniform", min = 0, max = 0.1 } }, "parameters.optimizer.lr.min", "greater than 0");
        await Refused(new Dictionary<string, object> { ["batchSize"] = new { type = "choice", values = Array.Empty<int>() } }, "parameters.batchSize.values", "empty");
        await Refused(new Dictionary<string, object> { ["batchSize"] = new { type = "choice", values = new[] { 16, 0 } } }, "parameters.batchSize", "batchSize = 0 fails");
        // A layer width that leaves the model's output unfit for the dataset's 3 classes fails the model's checks.
        await Refused(new Dictionary<string, object> { ["layers[2].outFeatures"] = new { type = "choice", values = new[] { 3, 2 } } }, "parameters.layers[2].outFeatures", "= 2 fails");

        Assert.Equal((sweepsBefore, runsBefore, modelsBefore), await CountsAsync());
    }

    [Fact]
    public async Task Malformed_sweeps_get_a_400_naming_the_field_and_unknown_ones_a_404()
    {
        var (datasetId, modelId) = await Workflow.ImportIrisAndMlpAsync(_client);
        var baseJson = """{"datasetId": "DATASET", "modelId": "MODEL", "epochs": 2, "optimizer": {"type": "adam"}, "loss": {"type": "crossEntropy"}}""";
        string Body(string template) => template
            .Replace("BASE_EVERY2", baseJson.Replace("\"epochs\": 2", "\"epochs\": 2, \"evaluateEvery\": 2", StringComparison.Ordinal), StringComparison.Ordinal)
            .Replace("BASE_UNKNOWN", baseJson.Replace("DATASET", Guid.NewGuid().ToString(), StringComparison.Ordinal), StringComparison.Ordinal)
            .Replace("BASE", baseJson, StringComparison.Ordinal)
            .Replace("LR", """{"optimizer.lr": {"type": "uniform", "min": 0.001, "max": 0.1}}""", StringComparison.Ordinal)
            .Replace("DATASET", datasetId.ToString(), StringComparison.Ordinal)
            .Replace("MODEL", modelId.ToString(), StringComparison.Ordinal);
        (string Body, string Field)[] cases =
        [
            ("""{"base": BASE, "parameters": [1, 2]}""", "parameters"),
            ("""{"base": BASE, "parameters": {"optimizer.lr": {"type": "uniform", "min": "NaN", "max": 0.1}}, "budget": {"maxTrials": 2}}""", "parameters.optimizer.lr.min"),
            ("""{"base": BASE, "parameters": {"optimizer.lr": {"type": "choice", "vals": [0.1]}}}""", "parameters"),
            ("""{"base": BASE, "parameters": LR, "method": "bayes", "budget": {"maxTrials": 2}}""", "method"),
            ("""{"base": BASE, "parameters": {"optimizer.lr": {"type": "log_uniform", "min": 0.001, "max": 0.1}}, "budget": {"maxTrials": 2}}""", "parameters"),
            ("""{"base": BASE, "parameters": LR}""", "budget.maxTrials"),
            ("""{"base": BASE, "parameters": LR, "budget": {"maxTrials": 0, "concurrency": 65}}""", "budget.concurrency"),
            ("""{"base": BASE, "parameters": {"batchSize": {"type": "int", "min": 1, "max": 1000000000}, "epochs": {"type": "int", "min": 1, "max": 1000}}, "method": "grid"}""", "parameters"),
            ("""{"base": BASE, "parameters": {"optimizer.lr": {"type": "choice", "values": [0.1, 0.2, 0.3]}}, "method": "grid", "budget": {"maxTrials": 4}}""", "budget.maxTrials"),
            ("""{"base": BASE_EVERY2, "parameters": LR, "budget": {"maxTrials": 2}, "earlyTermination": {"type": "asha"}}""", "base.evaluateEvery"),
            ("""{"base": BASE, "parameters": LR, "budget": {"maxTrials": 2}, "earlyTermination": {"type": "asha", "minEpochs": 2}}""", "earlyTermination.minEpochs"),
            ("""{"base": BASE, "parameters": LR, "budget": {"maxTrials": 2}, "earlyTermination": {"type": "median", "reductionFactor": 2}}""", "earlyTermination.reductionFactor"),
            ("""{"base": BASE_UNKNOWN, "parameters": LR, "budget": {"maxTrials": 2}}""", "base.datasetId"),
            ("""{"parameters": {"optimizer.lr": {"type": "uniform", "min": 0.001, "max": 0.1}}, "budget": {"maxTrials": 2}}""", "base"),
            ("""{"base": BASE, "parameters": {"optimizer.type": {"type": "choice", "values": ["adam", "sdg"]}}, "method": "grid"}""", "parameters.optimizer.type"),
        ];
        foreach (var (body, field) in cases)
        {
            var response = await _client.PostAsync("/api/sweeps", new StringContent(Body(body), System.Text.Encoding.UTF8, "application/json"));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{body} → {(int)response.StatusCode} {text}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = JsonSerializer.Deserialize<ValidationProblemDetails>(text, ApiFactory.Json)!;
            Assert.True(problem.Errors.Keys.Any(key => key == field || key.StartsWith(field + ".", StringComparison.Ordinal) || key.StartsWith(field + "[", StringComparison.Ordinal)),
                $"{body}: expected {field} in {string.Join(", ", problem.Errors.Keys)}");
            Assert.DoesNotContain("System.", text, StringComparison.Ordinal);
        }
        var unknown = Guid.NewGuid();
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync($"/api/sweeps/{unknown}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.PostAsync($"/api/sweeps/{unknown}/cancel", null)).StatusCode);
    }

    private async Task<(int Sweeps, int Runs, int Models)> CountsAsync() => (
        (await (await _client.GetAsync("/api/sweeps")).ReadAsAsync<Page<SweepListItem>>()).TotalCount,
        (await (await _client.GetAsync("/api/runs")).ReadAsAsync<Page<RunListItem>>()).TotalCount,
        (await (await _client.GetAsync("/api/models")).ReadAsAsync<Page<Experiments.Domain.Models.ModelView>>()).TotalCount);

    private static readonly object CrossEntropy = new { type = "crossEntropy" };

    private async Task<SweepView> CreateAsync(object spec)
    {
        var response = await _client.PostAsJsonAsync("/api/sweeps", spec);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        Assert.NotNull(response.Headers.Location);
        return await response.ReadAsAsync<SweepView>();
    }

    private Task<SweepView> WaitUntilFinishedAsync(Guid id) => Workflow.WaitUntilSweepFinishedAsync(_client, id);

    private static string Show(IEnumerable<TrialView> trials) =>
        string.Join("; ", trials.Select(trial => $"{trial.Number}: {string.Join(", ", trial.Parameters.OrderBy(pair => pair.Key, StringComparer.Ordinal).Select(pair => $"{pair.Key}={pair.Value.GetRawText()}"))}"));
}
