using System.Text.Json;
using System.Text.Json.Nodes;
using Experiments.Domain.Sweeps;
using Experiments.Domain.Validation;

namespace Experiments.Tests.Domain;

/// <summary>The search space, the three methods and the early-termination rules, on their own.</summary>
public sealed class SweepSearchTests
{
    private static SearchSpace Space(string json, SweepMethod method = SweepMethod.Random)
    {
        var errors = new ValidationErrors();
        var space = SearchSpace.Parse(Parameters(json), method, errors);
        Assert.True(space is not null, errors.ToString());
        return space;
    }

    private static Dictionary<string, SweepParameter> Parameters(string json) =>
        JsonSerializer.Deserialize<Dictionary<string, SweepParameter>>(json, Experiments.Domain.JsonConventions.Web)!;

    private static ValidationErrors Problems(string json, SweepMethod method = SweepMethod.Random)
    {
        var errors = new ValidationErrors();
        Assert.Null(SearchSpace.Parse(Parameters(json), method, errors));
        return errors;
    }

    private const string Mixed = """
        {
          "optimizer.lr": {"type": "logUniform", "min": 0.0001, "max": 0.1},
          "batchSize": {"type": "choice", "values": [16, 32, 64]},
          "layers[0].outFeatures": {"type": "logInt", "min": 8, "max": 256},
          "optimizer.weightDecay": {"type": "uniform", "min": 0, "max": 0.01},
          "epochs": {"type": "int", "min": 2, "max": 5}
        }
        """;

    [Fact]
    public void Random_trials_are_a_function_of_the_seed_and_the_trial_number_within_their_ranges()
    {
        var space = Space(Mixed);
        var first = Enumerable.Range(1, 50).Select(number => TrialSampler.Random(space, 42, number).Key).ToList();
        var again = Enumerable.Range(1, 50).Select(number => TrialSampler.Random(space, 42, number).Key).ToList();
        var other = Enumerable.Range(1, 50).Select(number => TrialSampler.Random(space, 43, number).Key).ToList();

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
        Assert.Equal(50, first.Distinct().Count());
        foreach (var number in Enumerable.Range(1, 200))
        {
            var values = TrialSampler.Random(space, 7, number).Values.Select(value => value!.Value).ToList();
            var byPath = space.Dimensions.Select((dimension, d) => (dimension.Path.Text, values[d])).ToDictionary();
            Assert.InRange(byPath["optimizer.lr"].GetDouble(), 0.0001, 0.1);
            Assert.Contains(byPath["batchSize"].GetInt32(), new[] { 16, 32, 64 });
            Assert.InRange(byPath["layers[0].outFeatures"].GetInt32(), 8, 256);
            Assert.Equal(JsonValueKind.Number, byPath["layers[0].outFeatures"].ValueKind);
            Assert.DoesNotContain(".", byPath["epochs"].GetRawText(), StringComparison.Ordinal);
            Assert.InRange(byPath["epochs"].GetInt32(), 2, 5);
        }
    }

    [Fact]
    public void Listed_values_without_a_type_are_a_choice_as_in_wandb()
    {
        var space = Space("""{"batchSize": {"values": [16, 32]}}""", SweepMethod.Grid);
        Assert.Equal(ParameterDistribution.Choice, space.Dimensions[0].Distribution);
        Assert.Equal(2, space.Grid().Count);
    }

    [Fact]
    public void A_log_range_is_drawn_evenly_in_its_logarithm()
    {
        var space = Space("""{"optimizer.lr": {"type": "logUniform", "min": 0.0001, "max": 1}}""");
        var draws = Enumerable.Range(1, 4000).Select(number => TrialSampler.Random(space, 1, number).Values[0]!.Value.GetDouble()).ToList();
        // Each decade holds about a quarter of the draws.
        foreach (var low in new[] { 0.0001, 0.001, 0.01, 0.1 })
        {
            Assert.InRange(draws.Count(value => value >= low && value < low * 10) / 4000.0, 0.21, 0.29);
        }
    }

    [Fact]
    public void A_grid_holds_each_combination_once_in_an_order_shuffled_by_the_seed()
    {
        var space = Space("""{"optimizer.lr": {"type": "choice", "values": [0.1, 0.01]}, "batchSize": {"type": "int", "min": 1, "max": 3}}""", SweepMethod.Grid);
        var trials = Enumerable.Range(1, 6).Select(number => TrialSampler.Grid(space, 5, number)!.Key).ToList();

        Assert.Equal(6, trials.Distinct().Count());
        Assert.Null(TrialSampler.Grid(space, 5, 7));
        Assert.Equal(trials, Enumerable.Range(1, 6).Select(number => TrialSampler.Grid(space, 5, number)!.Key));
        Assert.NotEqual(trials, Enumerable.Range(1, 6).Select(number => TrialSampler.Grid(space, 6, number)!.Key));
    }

    [Fact]
    public void A_sub_space_is_searched_only_with_its_option_and_a_grid_counts_it_once_elsewhere()
    {
        var space = Space("""
            {"optimizer": {"type": "choice", "options": [
                {"value": {"type": "sgd"}, "parameters": {"optimizer.momentum": {"type": "choice", "values": [0, 0.9]}}},
                {"value": {"type": "adam"}}
            ]}}
            """, SweepMethod.Grid);
        var grid = space.Grid();

        // sgd × two momenta, and adam once.
        Assert.Equal(3, grid.Count);
        Assert.Single(grid, trial => trial.Values[1] is null);
        Assert.All(Enumerable.Range(1, 100).Select(number => TrialSampler.Random(space, 3, number)), trial =>
            Assert.Equal(trial.Values[0]!.Value.GetProperty("type").GetString() == "sgd", trial.Values[1] is not null));
    }

    [Fact]
    public void Tpe_draws_near_the_best_trials_once_it_has_enough_of_them()
    {
        var space = Space("""{"optimizer.lr": {"type": "logUniform", "min": 0.00001, "max": 1}, "batchSize": {"type": "choice", "values": [8, 16, 32, 64]}}""");
        var lr = space.Dimensions.ToList().FindIndex(dimension => dimension.Path.Text == "optimizer.lr");
        var batch = 1 - lr;
        // A score that peaks at lr = 0.01 and batch 32.
        double Score(TrialValues trial) =>
            -Math.Abs(Math.Log10(trial.Values[lr]!.Value.GetDouble()) + 2) - (trial.Values[batch]!.Value.GetInt32() == 32 ? 0 : 1);
        var history = new List<ScoredTrial>();
        for (var number = 1; number <= 40; number++)
        {
            var trial = TrialSampler.Tpe(space, 11, number, history, SweepGoal.Maximize);
            history.Add(new ScoredTrial(trial, Score(trial)));
        }
        var late = history.Skip(25).ToList();
        var early = history.Take(TrialSampler.TpeStartupTrials).ToList();

        Assert.True(late.Average(trial => trial.Score) > early.Average(trial => trial.Score) + 0.5,
            $"TPE's late trials score {late.Average(trial => trial.Score):F2}, its random start {early.Average(trial => trial.Score):F2}");
        Assert.True(late.Count(trial => trial.Values.Values[batch]!.Value.GetInt32() == 32) > late.Count / 2);
        // The same history gives the same next trial.
        Assert.Equal(TrialSampler.Tpe(space, 11, 41, history, SweepGoal.Maximize).Key, TrialSampler.Tpe(space, 11, 41, history, SweepGoal.Maximize).Key);
    }

    [Theory]
    [InlineData("""{"nosuch": {"type": "uniform", "min": 0, "max": 1}}""", "parameters.nosuch", "not a field of a run spec")]
    [InlineData("""{"datasetId": {"type": "choice", "values": ["a"]}}""", "parameters.datasetId", "one dataset")]
    [InlineData("""{"batchSize.x": {"type": "choice", "values": [1]}}""", "parameters.batchSize.x", "single value")]
    [InlineData("""{"layers.outFeatures": {"type": "int", "min": 1, "max": 2}}""", "parameters.layers.outFeatures", "by its index")]
    [InlineData("""{"layers[x]": {"type": "int", "min": 1, "max": 2}}""", "parameters.layers[x]", "an index is written [0]")]
    [InlineData("""{"optimizer.lr": {"min": 0, "max": 1}}""", "parameters.optimizer.lr.type", "is required")]
    [InlineData("""{"optimizer.lr": {"type": "uniform", "max": 1}}""", "parameters.optimizer.lr.min", "is required")]
    [InlineData("""{"optimizer.lr": {"type": "uniform", "min": 1, "max": 1}}""", "parameters.optimizer.lr.max", "empty")]
    [InlineData("""{"optimizer.lr": {"type": "logUniform", "min": -1, "max": 1}}""", "parameters.optimizer.lr.min", "greater than 0")]
    [InlineData("""{"optimizer.lr": {"type": "uniform", "min": -1e308, "max": 1e308}}""", "parameters.optimizer.lr.max", "wider than a number holds")]
    [InlineData("""{"layers[0].outFeatures": {"type": "logInt", "min": 0, "max": 8}}""", "parameters.layers[0].outFeatures.min", "greater than 0")]
    [InlineData("""{"layers[0].outFeatures": {"type": "int", "min": 1.5, "max": 8}}""", "parameters.layers[0].outFeatures.min", "whole numbers")]
    [InlineData("""{"batchSize": {"type": "choice", "values": []}}""", "parameters.batchSize.values", "empty")]
    [InlineData("""{"batchSize": {"type": "choice", "values": [8, 8]}}""", "parameters.batchSize.values", "twice")]
    [InlineData("""{"batchSize": {"type": "choice", "values": [8], "min": 1}}""", "parameters.batchSize", "not min and max")]
    [InlineData("""{"optimizer": {"type": "choice", "options": [{"value": {"type": "sgd"}, "parameters": {"optimizer.momentum": {"type": "choice", "options": [{"value": 0.9}]}}}]}}""",
        "parameters.optimizer.options[0].parameters.optimizer.momentum", "one level only")]
    public void A_bad_space_is_refused_naming_the_field(string json, string field, string words)
    {
        var errors = Problems(json).ToDictionary();
        Assert.True(errors.ContainsKey(field), $"expected {field} in {string.Join(", ", errors.Keys)}");
        Assert.Contains(words, string.Join(" ", errors[field]), StringComparison.Ordinal);
    }

    [Fact]
    public void A_grid_refuses_continuous_ranges_and_an_oversized_product()
    {
        Assert.Contains("parameters.optimizer.lr.type", Problems("""{"optimizer.lr": {"type": "uniform", "min": 0, "max": 1}}""", SweepMethod.Grid).ToDictionary().Keys);
        var errors = Problems("""{"batchSize": {"type": "int", "min": 1, "max": 200}, "epochs": {"type": "int", "min": 1, "max": 200}}""", SweepMethod.Grid).ToDictionary();
        Assert.Contains("10,000", errors["parameters"][0], StringComparison.Ordinal);
    }

    [Fact]
    public void Setting_a_component_type_keeps_only_the_hyperparameters_the_new_type_has()
    {
        var document = JsonNode.Parse("""{"optimizer": {"type": "adam", "lr": 0.01, "betas": [0.9, 0.99]}}""")!.AsObject();
        var path = SpecPath.Parse("optimizer.type", out _)!;
        Assert.Null(path.Set(document, JsonValue.Create("sgd")));
        Assert.Equal("""{"type":"sgd","lr":0.01}""", document["optimizer"]!.ToJsonString());
        Assert.Contains("Did you mean 'sgd'", path.Set(document, JsonValue.Create("sdg")), StringComparison.Ordinal);
    }

    private static readonly EarlyTerminationSpec Asha = new() { Type = EarlyTerminationType.Asha, MinEpochs = 1, ReductionFactor = 3, MaxEpochs = 27, MinTrials = 3 };

    [Fact]
    public void Asha_judges_at_its_rungs_and_keeps_the_best_third_once_three_trials_reached_one()
    {
        Assert.Equal([1, 3, 9], EarlyTermination.Rungs(Asha, 27));
        Assert.True(EarlyTermination.Judges(Asha, 9, 27));
        Assert.False(EarlyTermination.Judges(Asha, 27, 27));

        // Too few values at the rung: never stopped on one comparison.
        Assert.Null(EarlyTermination.Judge(Asha, SweepMetric.ValidationAccuracy, SweepGoal.Maximize, 3, 0.1, 0.1, [0.9]));
        // Among 6, the best 2 go on.
        double[] others = [0.5, 0.6, 0.7, 0.8, 0.9];
        Assert.Null(EarlyTermination.Judge(Asha, SweepMetric.ValidationAccuracy, SweepGoal.Maximize, 3, 0.85, 0.85, others));
        var pruned = EarlyTermination.Judge(Asha, SweepMetric.ValidationAccuracy, SweepGoal.Maximize, 3, 0.75, 0.75, others)!;
        Assert.Equal(("asha", 3, 0.75, 0.8, 6), (pruned.Rule, pruned.Epoch, pruned.Value, pruned.Threshold, pruned.Compared));
        Assert.Contains("not among the best 2 of the 6 trials that reached epoch 3", pruned.Reason, StringComparison.Ordinal);
        // A loss is better low.
        Assert.NotNull(EarlyTermination.Judge(Asha, SweepMetric.ValidationLoss, SweepGoal.Minimize, 3, 0.85, 0.85, others));
    }

    [Fact]
    public void Median_stops_a_trial_whose_best_so_far_is_worse_than_the_others_median()
    {
        var median = new EarlyTerminationSpec { Type = EarlyTerminationType.Median, WarmupEpochs = 2, MinTrials = 3 };
        Assert.False(EarlyTermination.Judges(median, 1, 10));
        Assert.True(EarlyTermination.Judges(median, 2, 10));
        Assert.Null(EarlyTermination.Judge(median, SweepMetric.ValidationAccuracy, SweepGoal.Maximize, 2, 0.1, 0.1, [0.5, 0.6]));
        Assert.Null(EarlyTermination.Judge(median, SweepMetric.ValidationAccuracy, SweepGoal.Maximize, 2, 0.1, 0.7, [0.5, 0.6, 0.8]));
        var pruned = EarlyTermination.Judge(median, SweepMetric.ValidationAccuracy, SweepGoal.Maximize, 2, 0.1, 0.55, [0.5, 0.6, 0.8])!;
        Assert.Equal((0.55, 0.6, 3), (pruned.Value, pruned.Threshold, pruned.Compared));
    }

    [Fact]
    public void Importance_is_high_for_the_field_that_sets_the_score()
    {
        TrialView Trial(int number, double lr, int batch, double score) => new(number, Guid.NewGuid(), Experiments.Domain.Runs.RunStatus.Succeeded, null,
            new Dictionary<string, JsonElement> { ["optimizer.lr"] = JsonSerializer.SerializeToElement(lr), ["batchSize"] = JsonSerializer.SerializeToElement(batch) },
            5, 5, score, null, null);
        var trials = Enumerable.Range(0, 16).Select(i => Trial(i + 1, Math.Pow(10, -1 - (i % 4)), i / 4 % 2 == 0 ? 16 : 32, 0.5 + 0.1 * (i % 4) + 0.001 * (i / 4 % 2))).ToList();
        var importance = ParameterImportances.Of(trials);

        Assert.Equal("optimizer.lr", importance[0].Parameter);
        Assert.True(importance[0].Importance > 0.99);
        Assert.True(importance[1].Importance < 0.01);
        Assert.Equal(16, importance[0].Trials);
    }
}
