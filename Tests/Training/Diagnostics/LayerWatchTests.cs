using System.Text.Json;
using Experiments.Domain.Models;
using Experiments.Domain.Runs;
using Experiments.Domain.Validation;
using Experiments.Tests.Support;
using Experiments.Training;
using Experiments.Training.Data;
using Experiments.Training.Diagnostics;
using Experiments.Training.Layers;
using static Experiments.Tests.Training.TrainerTests;

namespace Experiments.Tests.Training.Diagnostics;

[Collection(OneAtATime.Name)]
public sealed class LayerWatchTests
{
    private const string TanhAndRelu = """
        [{"type": "linear", "outFeatures": 8}, {"type": "tanh"}, {"type": "linear", "outFeatures": 8}, {"type": "relu"}, {"type": "linear", "outFeatures": 3}]
        """;

    [Fact]
    public async Task Watch_records_every_nth_step_with_finite_norms_and_histograms_that_count_every_element()
    {
        var observer = new SnapshotObserver();
        var plan = Plan(epochs: 3, layers: TanhAndRelu) with { Watch = new WatchSpec { Every = 4, Bins = 16 } };

        await Trainer.TrainAsync(plan, Blobs(seed: 1), observer, CancellationToken.None);

        // 180 samples in batches of 16: 12 batches an epoch, 36 steps, every fourth watched.
        Assert.Equal([4L, 8, 12, 16, 20, 24, 28, 32, 36], observer.Snapshots.Select(snapshot => snapshot.Step));
        Assert.Equal((2, 4), (observer.Snapshots[3].Epoch, observer.Snapshots[3].Batch));
        var elements = new Dictionary<string, long>
        {
            ["layers[0].weight"] = 16, ["layers[0].bias"] = 8, ["layers[2].weight"] = 64, ["layers[2].bias"] = 8, ["layers[4].weight"] = 24, ["layers[4].bias"] = 3,
        };
        foreach (var snapshot in observer.Snapshots)
        {
            Assert.Equal(elements.Keys, snapshot.Parameters.Select(parameter => parameter.Name));
            foreach (var parameter in snapshot.Parameters)
            {
                Assert.True(parameter.WeightNorm > 0, $"{parameter.Name} weight norm {parameter.WeightNorm}");
                Assert.True(parameter.GradientNorm > 0, $"{parameter.Name} gradient norm {parameter.GradientNorm}");
                Assert.True(parameter.UpdateRatio is > 0 and < 1, $"{parameter.Name} update ratio {parameter.UpdateRatio}");
                Assert.Equal(16, parameter.Weights.Counts.Length);
                Assert.Equal(elements[parameter.Name], parameter.Weights.Counts.Sum());
                Assert.Equal(elements[parameter.Name], parameter.Gradients!.Counts.Sum());
                Assert.True(parameter.Weights.Min < parameter.Weights.Max);
            }
            Assert.Equal(["layers[0]", "layers[1]", "layers[2]", "layers[3]", "layers[4]"], snapshot.Activations.Select(activation => activation.Layer));
            Assert.All(snapshot.Activations, activation => Assert.True(activation.Mean is not null && activation.Std > 0, $"{activation.Layer}: {activation}"));
            var (tanh, relu, linear) = (snapshot.Activations[1], snapshot.Activations[3], snapshot.Activations[4]);
            Assert.True(tanh.SaturatedFraction is >= 0 and <= 1, $"saturated {tanh.SaturatedFraction}");
            Assert.Null(tanh.DeadFraction);
            Assert.True(relu.DeadFraction is >= 0 and <= 1, $"dead {relu.DeadFraction}");
            Assert.Null(relu.SaturatedFraction);
            Assert.Equal((null, null), (linear.DeadFraction, linear.SaturatedFraction));
        }
    }

    [Fact]
    public async Task Dead_units_react_to_a_relu_layer_whose_inputs_are_all_negative()
    {
        var healthy = new SnapshotObserver();
        var dead = new SnapshotObserver();
        var plan = Plan(epochs: 2, layers: """[{"type": "relu"}, {"type": "linear", "outFeatures": 3}]""") with { Watch = new WatchSpec { Every = 3, Bins = 8 } };
        var data = Blobs(seed: 1);
        // The same blobs moved 100 to the left and down: every feature is negative, so the relu outputs 0 for every sample.
        var negative = new LoadedDataset(data.SampleShape, Shifted(data.Train, -100), Shifted(data.Test, -100));

        await Trainer.TrainAsync(plan, data, healthy, CancellationToken.None);
        await Trainer.TrainAsync(plan, negative, dead, CancellationToken.None);

        static ActivationStatistics Relu(LayerSnapshot snapshot) => snapshot.Activations.Single(activation => activation.Type == "relu");
        Assert.All(healthy.Snapshots, snapshot => Assert.True(Relu(snapshot).DeadFraction < 1, $"healthy step {snapshot.Step}: dead {Relu(snapshot).DeadFraction}"));
        Assert.All(dead.Snapshots, snapshot => Assert.Equal((1.0, 0.0), (Relu(snapshot).DeadFraction, Relu(snapshot).Mean)));
        // Dead units pass nothing on: the weights after them get no gradient and never change.
        Assert.All(dead.Snapshots, snapshot => Assert.Equal((0.0, 0.0), Gradient(snapshot, "layers[1].weight")));
        Assert.All(healthy.Snapshots, snapshot => Assert.True(Gradient(snapshot, "layers[1].weight").Norm > 0));
    }

    private static (double? Norm, double? UpdateRatio) Gradient(LayerSnapshot snapshot, string name) =>
        snapshot.Parameters.Single(parameter => parameter.Name == name) is var parameter ? (parameter.GradientNorm, parameter.UpdateRatio) : default;

    private static DatasetArrays Shifted(DatasetArrays split, float by) =>
        DatasetArrays.Classification(StoredFeatures.Float32([.. split.Features.Floats.Select(feature => feature + by)]), [.. split.Labels]);

    [Fact]
    public async Task Without_watch_nothing_is_recorded()
    {
        var observer = new SnapshotObserver();

        await Trainer.TrainAsync(Plan(epochs: 2), Blobs(seed: 1), observer, CancellationToken.None);

        Assert.Empty(observer.Snapshots);
    }

    [Fact]
    public async Task Anomaly_detection_names_the_layer_whose_output_first_became_infinite()
    {
        var plan = Plan(epochs: 3, optimizer: "sgd", lr: 1e30) with { DetectAnomaly = true };

        var failure = await Assert.ThrowsAsync<TrainingFailedException>(() => Trainer.TrainAsync(plan, Blobs(seed: 3), new SnapshotObserver(), CancellationToken.None));

        // The first step scales the weights to about 1e30: the next batch's second linear layer overflows float32.
        Assert.Matches(@"^activation of layers\[[02]\] \(linear\) became (NaN|infinite) at epoch 1, batch 2 \(lr 1E\+30\)$", failure.Message);
    }

    [Fact]
    public async Task Anomaly_detection_names_the_gradient_that_became_nan()
    {
        // sqrt'(0) is infinite: a relu that outputs 0 everywhere would not do it, but a layer norm over one feature does,
        // its variance is 0 and the normalised value 0/0.
        var plan = Plan(epochs: 1, layers: """[{"type": "linear", "outFeatures": 1}, {"type": "layerNorm", "eps": 1e-45}, {"type": "linear", "outFeatures": 3}]""") with { DetectAnomaly = true };

        var failure = await Assert.ThrowsAsync<TrainingFailedException>(() => Trainer.TrainAsync(plan, Blobs(seed: 3), new SnapshotObserver(), CancellationToken.None));

        Assert.Matches(@"^(activation of layers\[1\] \(layerNorm\)|gradient of layers\[\d\]\.\w+) became (NaN|infinite) at epoch 1, batch 1 \(lr 0\.05\)$", failure.Message);
    }

    public static TheoryData<string, int[]> Models => new()
    {
        { TanhAndRelu, [2] },
        {
            """
            [{"type": "conv2d", "outChannels": 4, "kernelSize": 3, "padding": 1}, {"type": "batchNorm2d"}, {"type": "relu"},
             {"type": "residual", "layers": [{"type": "conv2d", "outChannels": 4, "kernelSize": 3, "padding": 1, "bias": false}, {"type": "gelu"}]},
             {"type": "flatten"}, {"type": "layerNorm"}, {"type": "layerNorm", "bias": false}, {"type": "linear", "outFeatures": 3, "bias": false}]
            """, [1, 6, 6]
        },
        { """[{"type": "lstm", "hiddenSize": 4, "numLayers": 2, "bidirectional": true, "output": "sequence"}, {"type": "gru", "hiddenSize": 3, "bias": false}, {"type": "linear", "outFeatures": 2}]""", [5, 3] },
        { """[{"type": "embedding", "numEmbeddings": 10, "embeddingDim": 4}, {"type": "flatten"}, {"type": "batchNorm1d", "affine": false}, {"type": "linear", "outFeatures": 2}]""", [3] },
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void The_sizes_the_spec_check_counts_are_the_tensors_and_layers_torchsharp_builds(string layers, int[] inputShape)
    {
        var errors = new ValidationErrors();
        var resolved = ModelValidator.Resolve(JsonSerializer.Deserialize<List<LayerSpec?>>(layers), errors)!;
        var summary = ModelValidator.InferShapes(resolved, inputShape, errors);
        Assert.True(errors.IsEmpty, errors.ToString());
        using var model = ModelBuilder.Build(resolved, summary!);

        Assert.Equal(model.parameters().Count(), WatchSpec.ParameterTensors(resolved));
        using var watch = new LayerWatch(model, resolved, new WatchSpec { Every = 1, Bins = 4 }, detectAnomaly: false);
        Assert.All(model.named_parameters(), named => Assert.Matches(@"^layers\[\d+\](\.layers\[\d+\])?\.\w+(\.\w+)?$", LayerWatch.SpecPath(named.name)));
    }

    [Fact]
    public void Parameter_names_follow_the_spec_paths()
    {
        Assert.Equal("layers[2].layers[0].weight", LayerWatch.SpecPath("2.layers.0.weight"));
        Assert.Equal("layers[0].lstm.weight_ih_l0", LayerWatch.SpecPath("0.lstm.weight_ih_l0"));
    }

    internal sealed class SnapshotObserver : IRunObserver
    {
        public List<LayerSnapshot> Snapshots { get; } = [];

        public Task EpochCompletedAsync(EpochMetric result, IReadOnlyList<RunLogMessage> lines, CancellationToken cancellationToken) => Task.CompletedTask;

        public void BatchCompleted(int epoch, int batch, int batchesPerEpoch, long step, float? loss, bool logged)
        {
        }

        public Task LogAsync(RunLogLevel level, string message, CancellationToken cancellationToken) => Task.CompletedTask;

        public void LayersWatched(LayerSnapshot snapshot) => Snapshots.Add(snapshot);
    }
}
