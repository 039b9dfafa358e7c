using Experiments.Tests.Support;
using Experiments.Training;
using Experiments.Training.Checkpoints;

namespace Experiments.Tests.Training;

[Collection(OneAtATime.Name)]
public sealed class CheckpointTests : IDisposable
{
    private readonly TemporaryFolder _folder = new();

    [Theory]
    [InlineData(null)]
    [InlineData("""{"type": "stepLR", "stepSize": 2, "gamma": 0.5, "warmupEpochs": 1}""")]
    [InlineData("""{"type": "reduceLROnPlateau", "monitor": "testLoss", "patience": 0}""")]
    [InlineData("""{"type": "oneCycleLR", "maxLr": 0.1}""")]
    public async Task Resuming_from_a_checkpoint_gives_the_numbers_of_an_uninterrupted_run(string? scheduler)
    {
        var data = TrainerTests.Blobs(seed: 8);
        var straight = new TrainerTests.RecordingObserver();
        await Trainer.TrainAsync(TrainerTests.Plan(epochs: 6, seed: 4, scheduler: scheduler) with { CheckpointPath = _folder.File("straight.bin") }, data, straight, CancellationToken.None);

        var checkpoint = _folder.File("interrupted.bin");
        using (var stop = new CancellationTokenSource())
        {
            // Stopped in the first batch of epoch 4: epochs 1 to 3 are finished, stored and checkpointed.
            var interrupted = new TrainerTests.RecordingObserver { OnBatch = (epoch, _) => { if (epoch == 4) { stop.Cancel(); } } };
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
                Trainer.TrainAsync(TrainerTests.Plan(epochs: 6, seed: 4, scheduler: scheduler) with { CheckpointPath = checkpoint }, data, interrupted, stop.Token));
        }
        Assert.Equal(3, Checkpoint.ReadState(checkpoint)!.Epoch);
        var resumed = new TrainerTests.RecordingObserver();
        await Trainer.TrainAsync(TrainerTests.Plan(epochs: 6, seed: 4, scheduler: scheduler) with { CheckpointPath = checkpoint }, data, resumed, CancellationToken.None);

        Assert.Equal([4, 5, 6], resumed.Epochs.Select(e => e.Epoch));
        Assert.Equal(
            straight.Epochs.Skip(3).Select(e => (e.TrainLoss, e.TestLoss, e.TestAccuracy, e.GradientNorm, e.LearningRate)),
            resumed.Epochs.Select(e => (e.TrainLoss, e.TestLoss, e.TestAccuracy, e.GradientNorm, e.LearningRate)));
        Assert.Contains(resumed.Lines, line => line.Contains("resumed from the checkpoint of epoch 3", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Gradients_are_clipped_and_their_norm_recorded()
    {
        var observer = new TrainerTests.RecordingObserver();

        await Trainer.TrainAsync(TrainerTests.Plan(epochs: 3) with { GradientClipNorm = 0.01, EvaluateEvery = 2 }, TrainerTests.Blobs(seed: 6), observer, CancellationToken.None);

        Assert.All(observer.Epochs, epoch => Assert.True(epoch.GradientNorm > 0.01));
        Assert.Equal([null, 2, 3], observer.Epochs.Select(e => e.TestAccuracy is null ? (int?)null : e.Epoch));
    }

    public void Dispose() => _folder.Dispose();
}
