using System.Text.Json;
using Experiments.Domain.Losses;
using Experiments.Domain.Models;
using Experiments.Domain.Optimizers;
using Experiments.Domain.Runs;
using Experiments.Domain.Schedulers;
using Experiments.Domain.Validation;
using Experiments.Tests.Domain;
using Experiments.Tests.Support;
using Experiments.Training;
using Experiments.Training.Data;
using Experiments.Training.Runtime;

namespace Experiments.Tests.Training;

[Collection(OneAtATime.Name)]
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
        var observer = new RecordingObserver { OnBatch = (epoch, batch) => { if (epoch == 2 && batch == 1) { cancellation.Cancel(); } } };

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Trainer.TrainAsync(Plan(epochs: 50), Blobs(seed: 4), observer, cancellation.Token));
        Assert.Single(observer.Epochs);
        Assert.Equal((2, 1), (observer.Batches[^1].Epoch, observer.Batches[^1].Batch));
    }

    public static TheoryData<string, string> ClassificationLosses => new()
    {
        { """{"type": "crossEntropy", "labelSmoothing": 0.1, "weight": [1, 2, 1]}""", "" },
        { """{"type": "nll", "weight": [1, 1, 2]}""", """{"type": "logSoftmax"}""" },
        { """{"type": "bceWithLogits", "posWeight": [1, 1, 2]}""", "" },
        { """{"type": "mse", "oneHot": true}""", "" },
        { """{"type": "l1", "oneHot": true}""", "" },
        { """{"type": "smoothL1", "oneHot": true}""", "" },
        { """{"type": "huber", "oneHot": true, "delta": 0.5}""", "" },
    };

    [Theory]
    [MemberData(nameof(ClassificationLosses))]
    public async Task Every_classification_loss_trains_and_reports_accuracy(string loss, string lastLayer)
    {
        var observer = new RecordingObserver();
        var plan = Plan(epochs: 4, loss: loss, layers: $$"""[{"type": "linear", "outFeatures": 8}, {"type": "relu"}, {"type": "linear", "outFeatures": 3}{{(lastLayer == "" ? "" : ", " + lastLayer)}}]""");

        await Trainer.TrainAsync(plan, Blobs(seed: 6), observer, CancellationToken.None);

        Assert.True(observer.Epochs[^1].TrainLoss < observer.Epochs[0].TrainLoss, $"{loss}: {observer.Epochs[0].TrainLoss} → {observer.Epochs[^1].TrainLoss}");
        Assert.True(observer.Epochs[^1].TestAccuracy > 0.6, $"{loss}: test accuracy {observer.Epochs[^1].TestAccuracy}");
        Assert.Null(observer.Epochs[^1].TestR2);
    }

    [Fact]
    public async Task Bce_with_logits_trains_one_logit_for_two_classes()
    {
        var observer = new RecordingObserver();
        var data = Blobs(seed: 7);
        var twoClasses = new LoadedDataset(data.SampleShape, OnlyTwoClasses(data.Train), OnlyTwoClasses(data.Test));
        var plan = Plan(epochs: 4, loss: """{"type": "bceWithLogits"}""", layers: """[{"type": "linear", "outFeatures": 4}, {"type": "tanh"}, {"type": "linear", "outFeatures": 1}]""");

        await Trainer.TrainAsync(plan, twoClasses, observer, CancellationToken.None);

        Assert.True(observer.Epochs[^1].TestAccuracy > 0.9, $"test accuracy {observer.Epochs[^1].TestAccuracy}");
    }

    public static TheoryData<string> RegressionLosses => new(["""{"type": "mse"}""", """{"type": "l1"}""", """{"type": "smoothL1", "beta": 0.5}""", """{"type": "huber"}"""]);

    [Theory]
    [MemberData(nameof(RegressionLosses))]
    public async Task Regression_records_test_mse_mae_and_r2_instead_of_accuracy(string loss)
    {
        var observer = new RecordingObserver();
        var plan = Plan(epochs: 25, loss: loss, layers: """[{"type": "linear", "outFeatures": 16}, {"type": "relu"}, {"type": "linear", "outFeatures": 2}]""");

        await Trainer.TrainAsync(plan, Line(seed: 8), observer, CancellationToken.None);

        var last = observer.Epochs[^1];
        Assert.Null(last.TrainAccuracy);
        Assert.Null(last.TestAccuracy);
        Assert.True(last.TestR2 > 0.9, $"{loss}: R² {last.TestR2}");
        Assert.True(last.TestMae < observer.Epochs[0].TestMae, $"{loss}: MAE {observer.Epochs[0].TestMae} → {last.TestMae}");
        Assert.True(last.TestMse >= last.TestMae * last.TestMae - 1e-9, "MSE is at least MAE²");
        Assert.Contains(observer.Lines, line => line.Contains("epoch 25/25", StringComparison.Ordinal) && line.Contains("test R²", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_scheduler_sets_each_epochs_learning_rate()
    {
        var observer = new RecordingObserver();
        var plan = Plan(epochs: 4, optimizer: "sgd", lr: 0.1, scheduler: """{"type": "stepLR", "stepSize": 1, "gamma": 0.5}""");

        await Trainer.TrainAsync(plan, Blobs(seed: 9), observer, CancellationToken.None);

        Assert.Equal([0.1, 0.05, 0.025, 0.0125], observer.Epochs.Select(epoch => Math.Round(epoch.LearningRate, 10)));
    }

    [Theory]
    [InlineData("""{"type": "oneCycleLR", "maxLr": 0.1}""")]
    [InlineData("""{"type": "reduceLROnPlateau", "monitor": "testAccuracy", "patience": 0, "warmupEpochs": 1}""")]
    [InlineData("""{"type": "cosineAnnealingLR", "tMax": 3, "warmupEpochs": 1, "warmupStartFactor": 0.1}""")]
    public async Task Batch_and_metric_driven_schedulers_run_to_the_end(string scheduler)
    {
        var observer = new RecordingObserver();

        var outcome = await Trainer.TrainAsync(Plan(epochs: 4, scheduler: scheduler), Blobs(seed: 10), observer, CancellationToken.None);

        Assert.Equal(StopReason.EpochsCompleted, outcome.Reason);
        Assert.All(observer.Epochs, epoch => Assert.True(epoch.LearningRate > 0 && epoch.LearningRate <= 0.1, $"lr {epoch.LearningRate}"));
        Assert.True(observer.Epochs[^1].TestAccuracy > 0.6, $"test accuracy {observer.Epochs[^1].TestAccuracy}");
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
            Assert.Equal(data.Train.Features.Floats, train.Features.Floats);
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
            return DatasetArrays.Classification(StoredFeatures.Float32(features), labels);
        }
        return new LoadedDataset([2], Make(perClass), Make(perClass / 3));
    }

    /// <summary>Two smooth targets of two features: sin(x₀) + x₁ and x₀ − x₁/2.</summary>
    internal static LoadedDataset Line(int seed, int count = 160)
    {
        var random = new Random(seed);
        DatasetArrays Make(int samples)
        {
            var features = new float[samples * 2];
            var values = new float[samples * 2];
            for (var i = 0; i < samples; i++)
            {
                var (x0, x1) = ((float)(random.NextDouble() * 4 - 2), (float)(random.NextDouble() * 4 - 2));
                (features[i * 2], features[i * 2 + 1]) = (x0, x1);
                (values[i * 2], values[i * 2 + 1]) = (MathF.Sin(x0) + x1, x0 - x1 / 2);
            }
            return DatasetArrays.Regression(StoredFeatures.Float32(features), values, 2);
        }
        return new LoadedDataset([2], Make(count), Make(count / 4));
    }

    private static DatasetArrays OnlyTwoClasses(DatasetArrays split)
    {
        var kept = Enumerable.Range(0, split.Count).Where(i => split.Labels[i] < 2).ToArray();
        return split.Take(kept);
    }

    internal static TrainingPlan Plan(
        int epochs,
        long seed = 1,
        string optimizer = "adam",
        double lr = 0.05,
        string layers = """[{"type": "linear", "outFeatures": 8}, {"type": "relu"}, {"type": "linear", "outFeatures": 3}]""",
        string loss = """{"type": "crossEntropy"}""",
        string? scheduler = null,
        int[]? inputShape = null,
        int batchSize = 16)
    {
        var errors = new ValidationErrors();
        var resolved = ModelValidator.Resolve(JsonSerializer.Deserialize<List<LayerSpec?>>(layers), errors)!;
        var summary = ModelValidator.InferShapes(resolved, inputShape ?? [2], errors)!;
        var optimizerSpec = OptimizerCatalog.Instance.Resolve(
            new OptimizerSpec(optimizer, new Dictionary<string, JsonElement> { ["lr"] = JsonSerializer.SerializeToElement(lr) }), "optimizer", errors)!;
        var lossSpec = LossCatalog.Instance.Resolve(JsonSerializer.Deserialize<LossSpec>(loss), "loss", errors)!;
        var schedulerSpec = scheduler is null ? null : SchedulerCatalog.Instance.Resolve(JsonSerializer.Deserialize<SchedulerSpec>(scheduler), "scheduler", errors);
        Assert.True(errors.IsEmpty, errors.ToString());
        return new TrainingPlan(resolved, summary, optimizerSpec, lossSpec, epochs, batchSize, true, seed, null, TrainingDevice.Cpu, schedulerSpec);
    }

    internal sealed class RecordingObserver : IRunObserver
    {
        public List<EpochMetric> Epochs { get; } = [];

        public List<string> Lines { get; } = [];

        public Action<EpochMetric>? OnEpoch { get; init; }

        /// <summary>Called on the training thread after each batch, with its epoch and batch: where a test stops training at an exact point.</summary>
        public Action<int, int>? OnBatch { get; init; }

        public Task EpochCompletedAsync(EpochMetric result, IReadOnlyList<RunLogMessage> lines, CancellationToken cancellationToken)
        {
            Epochs.Add(result);
            Lines.AddRange(lines.Select(line => $"{line.Level}: {line.Message}"));
            OnEpoch?.Invoke(result);
            return Task.CompletedTask;
        }

        public List<(int Epoch, int Batch, float? Loss)> Batches { get; } = [];

        public void BatchCompleted(int epoch, int batch, int batchesPerEpoch, long step, float? loss, bool logged)
        {
            Batches.Add((epoch, batch, logged ? loss : null));
            OnBatch?.Invoke(epoch, batch);
        }

        public Task LogAsync(RunLogLevel level, string message, CancellationToken cancellationToken)
        {
            Lines.Add($"{level}: {message}");
            return Task.CompletedTask;
        }
    }
}
