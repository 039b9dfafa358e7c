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
        run.Claim("worker-a", Environment, Now, Lease);
        run.RecordEpoch(Metric(1, 0.4));
        run.RecordEpoch(Metric(2, 0.6));
        run.Succeed(StopReason.EpochsCompleted, null, Now);

        Assert.Equal(RunStatus.Succeeded, run.Status);
        Assert.Equal(2, run.EpochsCompleted);
        Assert.Equal(0.6, run.BestTestAccuracy);
        Assert.Equal(2, run.BestEpoch);
        Assert.Null(run.LeaseOwner);
    }

    [Fact]
    public void Illegal_transitions_are_refused()
    {
        var run = new Run(Guid.NewGuid(), ValidSpec(), Now);

        Assert.Throws<InvalidOperationException>(() => run.Succeed(StopReason.EpochsCompleted, null, Now));
        run.Claim("worker-a", Environment, Now, Lease);
        Assert.Throws<InvalidOperationException>(() => run.Claim("worker-b", Environment, Now, Lease));
        Assert.Throws<InvalidOperationException>(() => run.RecordEpoch(Metric(2, 0.5)));
        run.Fail("boom", Now);
        Assert.Throws<InvalidOperationException>(() => run.Fail("again", Now));
        Assert.False(run.Cancel(Now));
    }

    [Fact]
    public void A_run_whose_lease_expired_can_be_taken_over_and_rolled_back_to_its_checkpoint()
    {
        var run = new Run(Guid.NewGuid(), ValidSpec(), Now);
        run.Claim("worker-a", Environment, Now, Lease);
        run.RecordEpoch(Metric(1, 0.5));
        run.RecordEpoch(Metric(2, 0.7));
        run.RecordEpoch(Metric(3, 0.6));

        Assert.False(run.CanBeClaimed(Now + Lease / 2));
        var later = Now + Lease * 2;
        run.Claim("worker-b", Environment, later, Lease);
        run.ResumeAt(2, [Metric(1, 0.5), Metric(2, 0.7)]);

        Assert.Equal("worker-b", run.LeaseOwner);
        Assert.Equal(1, run.Resumes);
        Assert.Equal(2, run.EpochsCompleted);
        Assert.Equal(0.7, run.BestTestAccuracy);
        Assert.Equal(Now, run.StartedAt);
        run.RecordEpoch(Metric(3, 0.8));
        Assert.Equal(3, run.BestEpoch);
    }

    [Fact]
    public void A_run_rolled_back_to_its_checkpoint_keeps_the_first_best_of_the_epochs_it_kept()
    {
        var run = new Run(Guid.NewGuid(), ValidSpec(), Now);
        run.Claim("worker-a", Environment, Now, Lease);
        run.RecordEpoch(Metric(1, 0.6));
        run.RecordEpoch(Metric(2, 0.6));
        run.RecordEpoch(Metric(3, 0.9));
        run.Claim("worker-b", Environment, Now + Lease * 2, Lease);

        run.ResumeAt(2, [Metric(1, 0.6), Metric(2, 0.6), Metric(3, 0.9)]);

        Assert.Equal((2, 0.6, 0.6, 1), (run.EpochsCompleted, run.LastTestAccuracy, run.BestTestAccuracy, run.BestEpoch));
    }

    [Fact]
    public void Cancelling_a_queued_run_finishes_it_and_cancelling_a_running_one_asks_its_worker()
    {
        var queued = new Run(Guid.NewGuid(), ValidSpec(), Now);
        Assert.True(queued.Cancel(Now));
        Assert.Equal(RunStatus.Cancelled, queued.Status);

        var running = new Run(Guid.NewGuid(), ValidSpec(), Now);
        running.Claim("worker-a", Environment, Now, Lease);
        Assert.True(running.Cancel(Now));
        Assert.Equal(RunStatus.Running, running.Status);
        Assert.True(running.CancelRequested);
        Assert.False(running.CanBeClaimed(Now + Lease * 2));
        running.ConfirmCancelled(Now);
        Assert.Equal(StopReason.Cancelled, running.StopReason);
    }

    [Fact]
    public void Per_class_metrics_follow_the_confusion_matrix()
    {
        // true class on rows: 8 of class a right, 2 taken for b; 1 of class b taken for a, 9 right.
        var evaluation = RunEvaluations.FromConfusion("test", 20, 0.3, 0.85, ["a", "b"], [[8, 2], [1, 9]]);

        Assert.Equal(8.0 / 9, evaluation.PerClass[0].Precision, 6);
        Assert.Equal(0.8, evaluation.PerClass[0].Recall, 6);
        Assert.Equal(2 * (8.0 / 9) * 0.8 / (8.0 / 9 + 0.8), evaluation.PerClass[0].F1, 6);
        Assert.Equal(10, evaluation.PerClass[1].Support);
    }

    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    private static readonly RunEnvironment Environment = new("cpu", "0.107.0", "2.10.0", 2, "test", "worker");

    private static EpochMetric Metric(int epoch, double testAccuracy) =>
        new(epoch, 1.0 / epoch, testAccuracy, 1.0 / epoch, testAccuracy, 0.01, 1.0, 0.1, 1000);

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
