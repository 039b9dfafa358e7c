using Experiments.Domain.Runs;
using Experiments.Tests.Support;
using Experiments.Training;
using Experiments.Training.Checkpoints;
using Experiments.Training.Data;
using Experiments.Training.Inference;
using static Experiments.Tests.Training.TrainerTests;

namespace Experiments.Tests.Training;

/// <summary>The validation split a run holds out, and the best epoch it selects, across a resume.</summary>
[Collection(OneAtATime.Name)]
public sealed class ValidationTests
{
    [Fact]
    public void The_held_out_rows_are_a_stratified_seeded_partition_of_the_training_split()
    {
        var train = Blobs(seed: 1, perClass: 50).Train;

        var (kept, heldOut) = ValidationSplit.Rows(train, 0.2, seed: 42);

        Assert.Equal(Enumerable.Range(0, train.Count), kept.Concat(heldOut).Order());
        Assert.All(Enumerable.Range(0, 3), label => Assert.Equal(10, heldOut.Count(row => train.Labels[row] == label)));
        Assert.Equal(heldOut, ValidationSplit.Rows(train, 0.2, seed: 42).Validation);
        Assert.NotEqual(heldOut, ValidationSplit.Rows(train, 0.2, seed: 43).Validation);
    }

    [Fact]
    public void A_class_of_one_sample_stays_in_training()
    {
        var train = DatasetArrays.Classification(StoredFeatures.Float32([0, 1, 2, 3, 4]), [0, 0, 0, 0, 1]);

        var (kept, heldOut) = ValidationSplit.Rows(train, 0.5, seed: 1);

        Assert.Contains(4, kept);
        Assert.Equal(2, heldOut.Length);
    }

    [Fact]
    public async Task With_a_validation_split_every_evaluated_epoch_records_validation_and_the_target_is_met_on_it()
    {
        var observer = new RecordingObserver();
        var data = Blobs(seed: 2).HoldOut(0.25, seed: 3);
        var plan = Plan(epochs: 30) with { TargetAccuracy = 0.99 };

        var outcome = await Trainer.TrainAsync(plan, data, observer, CancellationToken.None);

        Assert.Equal(StopReason.TargetAccuracyReached, outcome.Reason);
        Assert.All(observer.Epochs, epoch => Assert.InRange(epoch.ValidationLoss!.Value, 0, 10));
        Assert.True(observer.Epochs[^1].ValidationAccuracy >= 0.99);
        Assert.All(observer.Epochs[..^1], epoch => Assert.True(epoch.ValidationAccuracy < 0.99));
        Assert.Contains(observer.Lines, line => line.Contains("validation accuracy", StringComparison.Ordinal) && line.Contains("reached the target", StringComparison.Ordinal));
        Assert.Contains(observer.Lines, line => line.Contains($"{data.Validation!.Count} validation", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_best_epochs_weights_are_kept_and_survive_a_resume()
    {
        using var folder = new TemporaryFolder();
        var data = Blobs(seed: 4, perClass: 40).HoldOut(0.3, seed: 5);
        // A small lr on hard-to-separate blobs: validation accuracy moves up and down over the epochs.
        var plan = Plan(epochs: 8, lr: 0.02, seed: 6) with
        {
            CheckpointPath = folder.File("checkpoint.bin"),
            WeightsPath = folder.File("weights.bin"),
            BestWeightsPath = folder.File("best.bin"),
        };
        using var interrupt = new CancellationTokenSource();
        // Stopped in the first batch of epoch 4: epochs 1 to 3 are finished, stored and checkpointed.
        var first = new RecordingObserver { OnBatch = (epoch, _) => { if (epoch == 4) interrupt.Cancel(); } };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Trainer.TrainAsync(plan, data, first, interrupt.Token));
        Assert.True(File.Exists(plan.BestWeightsPath));

        var second = new RecordingObserver();
        await Trainer.TrainAsync(plan, data, second, CancellationToken.None);

        var epochs = first.Epochs.Take(3).Concat(second.Epochs).ToList();
        Assert.Equal(Enumerable.Range(1, 8), epochs.Select(epoch => epoch.Epoch));
        var best = epochs.Aggregate(EpochSummary.None, (summary, epoch) => summary.Apply(epoch));
        Assert.Equal(best.BestEpoch, Checkpoint.ReadState(plan.CheckpointPath)!.BestEpoch);
        var bestMetric = epochs.Single(epoch => epoch.Epoch == best.BestEpoch);
        Assert.Equal(bestMetric.ValidationAccuracy, best.BestValidationAccuracy);

        // The kept weights are exactly the best epoch's: they score its validation loss and accuracy again.
        var (layers, summary) = (plan.Layers, plan.Summary);
        using var model = TrainedModel.Load(layers, summary, new RunWeightFiles(plan.WeightsPath!, plan.CheckpointPath!, plan.BestWeightsPath!), WeightsChoice.Best)!;
        var rescored = model.Evaluate(data, data.Validation!, plan.Loss, batchSize: 16);
        Assert.Equal(bestMetric.ValidationAccuracy!.Value, rescored.Accuracy!.Value, 6);
        Assert.Equal(bestMetric.ValidationLoss!.Value, rescored.Loss, 4);
    }
}
