using System.Text.Json;
using Experiments.Domain.Datasets;
using Experiments.Domain.Losses;
using Experiments.Domain.Models;
using Experiments.Domain.Optimizers;
using Experiments.Domain.Runs;
using Experiments.Domain.Validation;

namespace Experiments.Tests.Domain;

public sealed class RunTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_run_moves_from_queued_through_running_to_succeeded()
    {
        var run = new Run(Guid.NewGuid(), ValidSpec(), Now);
        run.Start("cpu", Now);
        run.RecordEpoch(new EpochMetric(run.Id, 1, 1.0, 0.5, 1.1, 0.4, 0.01, 0.1));
        run.RecordEpoch(new EpochMetric(run.Id, 2, 0.8, 0.7, 0.9, 0.6, 0.01, 0.1));
        run.Succeed(StopReason.EpochsCompleted, Now);

        Assert.Equal(RunStatus.Succeeded, run.Status);
        Assert.Equal(2, run.EpochsCompleted);
        Assert.Equal(0.6, run.BestTestAccuracy);
    }

    [Fact]
    public void Illegal_transitions_are_refused()
    {
        var run = new Run(Guid.NewGuid(), ValidSpec(), Now);

        Assert.Throws<InvalidOperationException>(() => run.Succeed(StopReason.EpochsCompleted, Now));
        run.Start("cpu", Now);
        Assert.Throws<InvalidOperationException>(() => run.Start("cpu", Now));
        Assert.Throws<InvalidOperationException>(() => run.RecordEpoch(new EpochMetric(run.Id, 2, 0, 0, 0, 0, 0, 0)));
        run.Fail("boom", Now);
        Assert.Throws<InvalidOperationException>(() => run.Fail("again", Now));
    }

    [Fact]
    public void Resolving_fills_in_defaults_and_keeps_the_seed_it_is_given()
    {
        var errors = new ValidationErrors();
        var resolved = RunSpecValidator.Resolve(ValidSpec() with { Seed = null }, 99, errors)!;

        Assert.Equal(RunSpecValidator.DefaultBatchSize, resolved.BatchSize);
        Assert.True(resolved.Shuffle);
        Assert.Equal(99, resolved.Seed);
        Assert.Equal(TrainingDevice.Auto, resolved.Device);
        Assert.Equal(0.9, resolved.Optimizer!.Doubles("betas")[0]);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void A_target_accuracy_outside_zero_to_one_is_refused(double target)
    {
        var errors = new ValidationErrors();

        Assert.Null(RunSpecValidator.Resolve(ValidSpec() with { TargetAccuracy = target }, 1, errors));
        Assert.Contains("targetAccuracy", errors.ToDictionary().Keys);
    }

    [Fact]
    public void A_model_that_does_not_fit_the_samples_is_refused_naming_the_model()
    {
        var dataset = new Dataset(Guid.NewGuid(), "images", DatasetFormat.Csv, [1, 28, 28], ["a", "b"], [5, 5], 8, 2,
            new FeatureStatistics(0, 1, 0.5, 0.2), "hash", "file.bin", Now);
        var model = new ModelDefinition(Guid.NewGuid(), "tiny", 1, [ModelValidatorTests.Layer("flatten", ("startDim", 5))], Now);
        var errors = new ValidationErrors();

        Assert.Null(RunSpecValidator.CheckFit(RunSpecValidator.Resolve(ValidSpec(), 1, errors)!, dataset, model, errors));
        Assert.Contains("does not fit dataset 'images'", errors.ToDictionary()["modelId"][0], StringComparison.Ordinal);
    }

    private static RunSpec ValidSpec() => new()
    {
        DatasetId = Guid.NewGuid(),
        ModelId = Guid.NewGuid(),
        Optimizer = new OptimizerSpec("adam", new Dictionary<string, JsonElement> { ["lr"] = JsonSerializer.SerializeToElement(0.01) }),
        Loss = new LossSpec("crossEntropy"),
        Epochs = 3,
        Seed = 5,
    };
}
