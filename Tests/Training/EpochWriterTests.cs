using Experiments.Domain.Runs;
using Experiments.Tests.Support;
using Experiments.Training;
using Experiments.Training.Checkpoints;
using Experiments.Training.Runtime;
using static Experiments.Tests.Training.TrainerTests;

namespace Experiments.Tests.Training;

/// <summary>The training thread trains; each epoch is stored, then checkpointed, off it and in order.</summary>
[Collection(OneAtATime.Name)]
public sealed class EpochWriterTests : IDisposable
{
    private readonly TemporaryFolder _folder = new();

    [Fact]
    public async Task Training_goes_on_while_an_epoch_is_being_stored()
    {
        using var stored = new ManualResetEventSlim();
        var observer = new StoringObserver { WhileStoring = epoch => { if (epoch == 1) { stored.Wait(TimeSpan.FromSeconds(30)); } } };
        var reachedEpoch2 = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        observer.OnBatch = (epoch, _) => { if (epoch == 2) { reachedEpoch2.TrySetResult(); } };

        var training = Trainer.TrainAsync(Plan(epochs: 3) with { CheckpointPath = _folder.File("checkpoint.bin") }, Blobs(seed: 1), observer, CancellationToken.None);
        // Epoch 1 is not stored yet, and the training thread is already in epoch 2.
        await reachedEpoch2.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Empty(observer.Epochs);
        stored.Set();
        await training;

        Assert.Equal([1, 2, 3], observer.Epochs);
    }

    [Fact]
    public async Task An_epochs_checkpoint_is_written_only_after_the_epoch_is_stored()
    {
        var checkpoint = _folder.File("checkpoint.bin");
        var seenAtStore = new List<int?>();
        var observer = new StoringObserver { WhileStoring = _ => seenAtStore.Add(Checkpoint.ReadState(checkpoint)?.Epoch) };

        await Trainer.TrainAsync(Plan(epochs: 4) with { CheckpointPath = checkpoint }, Blobs(seed: 2), observer, CancellationToken.None);

        // When epoch N is stored, the checkpoint on disk is still epoch N - 1's: a resume never skips a stored epoch.
        Assert.Equal([null, 1, 2, 3], seenAtStore);
        Assert.Equal(4, Checkpoint.ReadState(checkpoint)!.Epoch);
    }

    [Fact]
    public async Task A_store_that_fails_stops_training_with_its_error_and_no_later_checkpoint()
    {
        var checkpoint = _folder.File("checkpoint.bin");
        var observer = new StoringObserver { WhileStoring = epoch => { if (epoch == 2) { throw new IOException("disk full"); } } };

        var failure = await Assert.ThrowsAsync<IOException>(() =>
            Trainer.TrainAsync(Plan(epochs: 50) with { CheckpointPath = checkpoint }, Blobs(seed: 3), observer, CancellationToken.None));

        Assert.Equal("disk full", failure.Message);
        Assert.Equal(1, Checkpoint.ReadState(checkpoint)!.Epoch);
        Assert.True(observer.Batches.Max(batch => batch.Epoch) < 50);
    }

    [Fact]
    public async Task A_run_trains_on_a_thread_of_its_own_with_the_threads_it_was_given()
    {
        var seen = new HashSet<(string?, int)>();
        var observer = new StoringObserver();
        observer.OnBatch = (_, _) => seen.Add((Thread.CurrentThread.Name, TorchSharp.torch.get_num_threads()));

        await Trainer.TrainAsync(Plan(epochs: 2) with { TorchThreads = 1 }, Blobs(seed: 4), observer, CancellationToken.None);

        Assert.Equal([(TrainingThread.Name, 1)], seen);
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(2, 1, 1)]
    [InlineData(4, 1, 3)]
    [InlineData(16, 1, 15)]
    [InlineData(16, 4, 3)]
    [InlineData(2, 3, 1)]
    public void The_default_thread_count_leaves_a_core_to_the_host(int cores, int concurrentRuns, int threads) =>
        Assert.Equal(threads, TrainingThread.DefaultThreads(cores, concurrentRuns));

    public void Dispose() => _folder.Dispose();

    /// <summary>Records the epochs it stored, after running <see cref="WhileStoring"/> (on the writer's thread) for each.</summary>
    private sealed class StoringObserver : IRunObserver
    {
        public List<int> Epochs { get; } = [];

        public List<(int Epoch, int Batch)> Batches { get; } = [];

        public Action<int>? WhileStoring { get; init; }

        public Action<int, int>? OnBatch { get; set; }

        public Task EpochCompletedAsync(EpochMetric result, IReadOnlyList<RunLogMessage> lines, CancellationToken cancellationToken)
        {
            WhileStoring?.Invoke(result.Epoch);
            lock (Epochs)
            {
                Epochs.Add(result.Epoch);
            }
            return Task.CompletedTask;
        }

        public void BatchCompleted(int epoch, int batch, int batchesPerEpoch, long step, float? loss, bool logged)
        {
            Batches.Add((epoch, batch));
            OnBatch?.Invoke(epoch, batch);
        }

        public Task LogAsync(RunLogLevel level, string message, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
