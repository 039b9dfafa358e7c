using System.Text.Json;
using Experiments.Domain.Losses;
using Experiments.Domain.Models;
using Experiments.Domain.Optimizers;
using Experiments.Domain.Runs;
using Experiments.Domain.Validation;
using Experiments.Tests.Domain;
using Experiments.Training;
using Experiments.Training.Data;
using Experiments.Training.Runtime;

namespace Experiments.Tests.Training;

public sealed class TrainerTests
{
    [Fact]
    public void Torchsharp_loads_on_this_machine()
    {
        var environment = TorchRuntime.Describe();

        Assert.True(environment.Loaded, environment.Error);
        Assert.StartsWith("2.10", environment.LibTorchVersion, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Loss_falls_and_accuracy_rises_on_learnable_data()
    {
        var observer = new RecordingObserver();

        var outcome = await Trainer.TrainAsync(Plan(epochs: 15), Blobs(seed: 1), observer, CancellationToken.None);

        Assert.Equal(StopReason.EpochsCompleted, outcome.Reason);
        Assert.Equal(15, observer.Epochs.Count);
        Assert.True(observer.Epochs[^1].TrainLoss < observer.Epochs[0].TrainLoss);
        Assert.True(observer.Epochs[^1].TestAccuracy > 0.9, $"test accuracy {observer.Epochs[^1].TestAccuracy}");
    }

    [Fact]
    public async Task The_same_seed_reproduces_every_number()
    {
        var first = new RecordingObserver();
        var second = new RecordingObserver();

        await Trainer.TrainAsync(Plan(epochs: 3, seed: 11), Blobs(seed: 2), first, CancellationToken.None);
        await Trainer.TrainAsync(Plan(epochs: 3, seed: 11), Blobs(seed: 2), second, CancellationToken.None);

        Assert.Equal(first.Epochs.Select(e => (e.TrainLoss, e.TestLoss, e.TestAccuracy)), second.Epochs.Select(e => (e.TrainLoss, e.TestLoss, e.TestAccuracy)));
    }

    [Fact]
    public async Task A_loss_that_becomes_nan_fails_with_the_epoch_batch_and_learning_rate()
    {
        var plan = Plan(epochs: 5, optimizer: "sgd", lr: 1e30);

        var failure = await Assert.ThrowsAsync<TrainingFailedException>(() => Trainer.TrainAsync(plan, Blobs(seed: 3), new RecordingObserver(), CancellationToken.None));

        Assert.Matches(@"^loss became (NaN|infinite) at epoch \d+, batch \d+ \(lr 1E\+30\)$", failure.Message);
    }

    [Fact]
    public async Task Cancellation_stops_training_between_batches()
    {
        using var cancellation = new CancellationTokenSource();
        var observer = new RecordingObserver { OnEpoch = _ => cancellation.Cancel() };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Trainer.TrainAsync(Plan(epochs: 50), Blobs(seed: 4), observer, cancellation.Token));
        Assert.Single(observer.Epochs);
    }

    [Fact]
    public void A_dataset_file_round_trips()
    {
        var path = Path.Combine(Path.GetTempPath(), $"{Guid.NewGuid():N}.bin");
        try
        {
            var data = Blobs(seed: 5);
            DatasetFile.Write(path, data.SampleShape, data.Train, data.Test);
            var (shape, train, test) = DatasetFile.Read(path);

            Assert.Equal(data.SampleShape, shape);
            Assert.Equal(data.Train.Features, train.Features);
            Assert.Equal(data.Test.Labels, test.Labels);
            Assert.False(File.Exists(path + ".partial"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Three well separated Gaussian blobs in 2-D: any working classifier learns them.</summary>
    internal static LoadedDataset Blobs(int seed, int perClass = 60)
    {
        var random = new Random(seed);
        DatasetArrays Make(int count)
        {
            var features = new float[count * 3 * 2];
            var labels = new long[count * 3];
            for (var i = 0; i < count * 3; i++)
            {
                var label = i % 3;
                features[i * 2] = (float)(label * 4 + random.NextDouble() - 0.5);
                features[i * 2 + 1] = (float)((label == 1 ? 4 : 0) + random.NextDouble() - 0.5);
                labels[i] = label;
            }
            return DatasetArrays.Classification(features, labels);
        }
        return new LoadedDataset([2], Make(perClass), Make(perClass / 3));
    }

    internal static TrainingPlan Plan(int epochs, long seed = 1, string optimizer = "adam", double lr = 0.05)
    {
        var errors = new ValidationErrors();
        var layers = ModelValidator.Resolve(
            [ModelValidatorTests.Layer("linear", ("outFeatures", 8)), ModelValidatorTests.Layer("relu"), ModelValidatorTests.Layer("linear", ("outFeatures", 3))], errors)!;
        var summary = ModelValidator.InferShapes(layers, [2], errors)!;
        var optimizerSpec = OptimizerCatalog.Instance.Resolve(
            new OptimizerSpec(optimizer, new Dictionary<string, JsonElement> { ["lr"] = JsonSerializer.SerializeToElement(lr) }), "optimizer", errors)!;
        var loss = LossCatalog.Instance.Resolve(new LossSpec("crossEntropy"), "loss", errors)!;
        Assert.True(errors.IsEmpty, errors.ToString());
        return new TrainingPlan(layers, summary, optimizerSpec, loss, epochs, 16, true, seed, null, TrainingDevice.Cpu);
    }

    internal sealed class RecordingObserver : IRunObserver
    {
        public List<EpochResult> Epochs { get; } = [];

        public List<string> Lines { get; } = [];

        public Action<EpochResult>? OnEpoch { get; init; }

        public Task EpochCompletedAsync(EpochResult result, CancellationToken cancellationToken)
        {
            Epochs.Add(result);
            OnEpoch?.Invoke(result);
            return Task.CompletedTask;
        }

        public List<(int Epoch, int Batch, float? Loss)> Batches { get; } = [];

        public void BatchCompleted(int epoch, int batch, int batchesPerEpoch, long step, float? loss) => Batches.Add((epoch, batch, loss));

        public Task LogAsync(RunLogLevel level, string message, CancellationToken cancellationToken)
        {
            Lines.Add($"{level}: {message}");
            return Task.CompletedTask;
        }
    }
}
