using Experiments.Domain.Datasets;
using Experiments.Tests.Support;
using Experiments.Training;
using Experiments.Training.Data;
using Experiments.Training.Data.Import;
using Experiments.Training.Evaluation;
using Experiments.Training.Layers;
using Experiments.Training.Losses;
using static TorchSharp.torch;

namespace Experiments.Tests.Training.Data;

/// <summary>
/// A dataset stored as bytes (the 10k MNIST sample, scaled, standardized and reshaped) stays bytes in memory and on the
/// device; each batch is converted and preprocessed there, to exactly the values the whole split prepared up front in
/// float32 on the CPU (the way runs were fed before) gives.
/// </summary>
[Collection(OneAtATime.Name)]
public sealed class ByteFeatureTests : IDisposable
{
    private const string Mlp = """[{"type": "flatten"}, {"type": "linear", "outFeatures": 32}, {"type": "relu"}, {"type": "linear", "outFeatures": 10}]""";
    private static readonly Preprocessing Requested = new(1 / 255.0, true, [1, 28, 28], null, null);
    private readonly TemporaryFolder _folder = new();

    [Fact]
    public async Task A_byte_split_is_a_uint8_tensor_and_its_batches_are_float32_with_the_preprocessing_of_the_old_cpu_conversion()
    {
        var data = await MnistAsync();
        using var split = TensorSplit.From(data.Train, data.StoredShape, data.Preprocessing, CPU);
        using var scope = NewDisposeScope();

        Assert.Equal(FeatureType.UInt8, data.Train.Features.Type);
        Assert.Equal(ScalarType.Byte, split.Features.dtype);
        Assert.Equal([8000L, 28, 28], split.Features.shape);
        Assert.Equal([1, 28, 28], split.SampleShape);
        int[] rows = [5, 0, 7999, 5];
        var (inputs, targets) = split.Gather(tensor(rows.Select(row => (long)row).ToArray()));

        Assert.Equal(ScalarType.Float32, inputs.dtype);
        Assert.Equal([4L, 1, 28, 28], inputs.shape);
        Assert.Equal(PreparedUpFront(data, data.Train.Take(rows)).Features.Floats, inputs.data<float>().ToArray());
        Assert.Equal(rows.Select(row => data.Train.Labels[row]), targets.data<long>().ToArray());
        // Scaled and standardized: the values are no longer the bytes, nor merely the bytes over 255.
        Assert.Contains(inputs.data<float>().ToArray(), value => value < 0);
    }

    [Fact]
    public async Task Evaluating_a_byte_split_gives_the_metrics_of_its_samples_prepared_up_front_in_float32()
    {
        var data = await MnistAsync();
        var floats = PreparedUpFront(data);
        var plan = TrainerTests.Plan(epochs: 1, layers: Mlp, inputShape: [1, 28, 28], batchSize: 100);
        using var model = ModelBuilder.Build(plan.Layers, plan.Summary, plan.Seed);
        var loss = LossFactory.Create(plan.Loss, TargetKind.ClassIndex);
        using var bytes = TensorSplit.From(data.Test, data.StoredShape, data.Preprocessing, CPU);
        using var prepared = TensorSplit.From(floats.Test, floats.StoredShape, floats.Preprocessing, CPU);

        var onBytes = Evaluator.Evaluate(model, loss, bytes, plan.BatchSize, TargetKind.ClassIndex, confusionClasses: 10);
        var onFloats = Evaluator.Evaluate(model, loss, prepared, plan.BatchSize, TargetKind.ClassIndex, confusionClasses: 10);

        Assert.Equal(ScalarType.Float32, prepared.Features.dtype);
        Assert.Equal((onFloats.Loss, onFloats.Accuracy), (onBytes.Loss, onBytes.Accuracy));
        Assert.Equal(onFloats.ConfusionMatrix, onBytes.ConfusionMatrix);
        Assert.Equal(Evaluator.Classify(model, prepared, plan.BatchSize, CancellationToken.None).Predicted,
            Evaluator.Classify(model, bytes, plan.BatchSize, CancellationToken.None).Predicted);
    }

    [Fact]
    public async Task A_run_on_mnist_bytes_learns_and_gives_every_epochs_numbers_of_the_float32_samples_prepared_up_front()
    {
        var data = await MnistAsync();
        var plan = TrainerTests.Plan(epochs: 2, lr: 0.001, layers: Mlp, inputShape: [1, 28, 28], batchSize: 64, seed: 7);
        var onBytes = new TrainerTests.RecordingObserver();
        var onFloats = new TrainerTests.RecordingObserver();

        await Trainer.TrainAsync(plan, data, onBytes, CancellationToken.None);
        await Trainer.TrainAsync(plan, PreparedUpFront(data), onFloats, CancellationToken.None);

        Assert.Equal(2, onBytes.Epochs.Count);
        Assert.True(onBytes.Epochs[^1].TestAccuracy > 0.85, $"test accuracy {onBytes.Epochs[^1].TestAccuracy}");
        Assert.Equal(onFloats.Epochs.Select(e => (e.TrainLoss, e.TrainAccuracy, e.TestLoss, e.TestAccuracy, e.GradientNorm)),
            onBytes.Epochs.Select(e => (e.TrainLoss, e.TrainAccuracy, e.TestLoss, e.TestAccuracy, e.GradientNorm)));
    }

    public void Dispose() => _folder.Dispose();

    /// <summary>The 10k MNIST sample imported as a user would: bytes, scaled by 1/255, standardized, as [1, 28, 28] images.</summary>
    private async Task<LoadedDataset> MnistAsync()
    {
        var request = DatasetFiles.Request(("file", "mnist-10k.npz", await File.ReadAllBytesAsync(Path.Combine(AppContext.BaseDirectory, "samples", "mnist-10k.npz"))))
            with { Preprocessing = Requested };
        var dataset = DatasetConverter.Convert(Guid.NewGuid(), request, await request.ContentHashAsync(CancellationToken.None), _folder.Path,
            new ImportLimits(1L << 30), TimeProvider.System);
        return LoadedDataset.Read(dataset, _folder.File(dataset.TensorFile));
    }

    /// <summary>
    /// Both splits as runs were fed before bytes stayed bytes: every feature widened to float32 on the CPU, multiplied by
    /// the scale, then standardized in place, in that order and in float32; only the reshape is left to the split.
    /// </summary>
    private static LoadedDataset PreparedUpFront(LoadedDataset data) =>
        new(data.StoredShape, PreparedUpFront(data, data.Train), PreparedUpFront(data, data.Test))
        {
            Preprocessing = Preprocessing.None with { Reshape = data.Preprocessing.Reshape },
            ClassCount = data.ClassCount,
        };

    private static DatasetArrays PreparedUpFront(LoadedDataset data, DatasetArrays split)
    {
        var features = DatasetFiles.FeaturesAsFloats(split);
        var factor = (float)data.Preprocessing.Scale!.Value;
        var (mean, std) = (data.Preprocessing.Mean!, data.Preprocessing.Std!);
        for (var i = 0; i < features.Length; i++)
        {
            features[i] *= factor;
        }
        for (var i = 0; i < features.Length; i++)
        {
            var j = i % split.SampleSize;
            features[i] = (features[i] - mean[j]) / std[j];
        }
        return DatasetArrays.Classification(StoredFeatures.Float32(features), split.Labels);
    }
}
