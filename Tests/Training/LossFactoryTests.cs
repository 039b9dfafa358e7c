using System.Text.Json;
using Experiments.Domain.Losses;
using Experiments.Domain.Validation;
using Experiments.Tests.Support;
using Experiments.Training.Data;
using Experiments.Training.Losses;
using static TorchSharp.torch;

namespace Experiments.Tests.Training;

/// <summary>Every loss, built in TorchSharp from its spec, gives the value worked out by hand from PyTorch's definition.</summary>
[Collection(OneAtATime.Name)]
public sealed class LossFactoryTests
{
    private static readonly double Ln2 = Math.Log(2);
    private static readonly float Ln3 = MathF.Log(3);

    [Fact]
    public void Cross_entropy_with_class_weights_and_label_smoothing()
    {
        // Both samples predict [0.75, 0.25]; -ln 0.75 and -ln 0.25 are the per-sample losses.
        float[] logits = [Ln3, 0, Ln3, 0];
        long[] labels = [0, 1];

        Assert.Equal((-Math.Log(0.75) - Math.Log(0.25)) / 2, Loss("""{"type": "crossEntropy"}""", logits, [2, 2], labels), 5);
        Assert.Equal((-Math.Log(0.75) - 3 * Math.Log(0.25)) / 4, Loss("""{"type": "crossEntropy", "weight": [1, 3]}""", logits, [2, 2], labels), 5);
        var smoothed = (0.8 * -Math.Log(0.75) + 0.2 * -(Math.Log(0.75) + Math.Log(0.25)) / 2 + 0.8 * -Math.Log(0.25) + 0.2 * -(Math.Log(0.75) + Math.Log(0.25)) / 2) / 2;
        Assert.Equal(smoothed, Loss("""{"type": "crossEntropy", "labelSmoothing": 0.2}""", logits, [2, 2], labels), 5);
    }

    [Fact]
    public void Nll_takes_log_probabilities()
    {
        Assert.Equal(-Math.Log(0.25), Loss("""{"type": "nll"}""", [MathF.Log(0.75f), MathF.Log(0.25f)], [1, 2], [1]), 5);
        Assert.Equal((-Math.Log(0.75) * 2 - Math.Log(0.25)) / 3, Loss("""{"type": "nll", "weight": [2, 1]}""", [MathF.Log(0.75f), MathF.Log(0.25f), MathF.Log(0.75f), MathF.Log(0.25f)], [2, 2], [0, 1]), 5);
    }

    [Theory]
    [InlineData("""{"type": "mse"}""", 2.5)]
    [InlineData("""{"type": "l1"}""", 1.5)]
    [InlineData("""{"type": "smoothL1"}""", 1.0)]
    [InlineData("""{"type": "smoothL1", "beta": 4}""", 0.3125)]
    [InlineData("""{"type": "huber"}""", 1.0)]
    [InlineData("""{"type": "huber", "delta": 2}""", 1.25)]
    public void Regression_losses_compare_values(string spec, double expected)
    {
        // Errors of 1 and 2.
        var value = Loss(spec, [1, 2], [1, 2], targets: null, values: [0, 4], kind: TargetKind.Values);

        Assert.Equal(expected, value, 5);
    }

    [Fact]
    public void A_value_loss_with_one_hot_compares_outputs_with_one_hot_labels()
    {
        Assert.Equal(0, Loss("""{"type": "mse", "oneHot": true}""", [1, 0, 0], [1, 3], [0]), 5);
        Assert.Equal(2.0 / 3, Loss("""{"type": "mse", "oneHot": true}""", [1, 0, 0], [1, 3], [1]), 5);
        Assert.Equal(2.0 / 3, Loss("""{"type": "l1", "oneHot": true}""", [1, 0, 0], [1, 3], [2]), 5);
    }

    [Fact]
    public void Bce_with_logits_takes_one_logit_for_two_classes_or_one_per_class()
    {
        Assert.Equal(Ln2, Loss("""{"type": "bceWithLogits"}""", [0], [1, 1], [1]), 5);
        Assert.Equal(-Math.Log(0.25), Loss("""{"type": "bceWithLogits"}""", [Ln3], [1, 1], [0]), 5);
        Assert.Equal(2 * Ln2, Loss("""{"type": "bceWithLogits", "posWeight": [2]}""", [0], [1, 1], [1]), 5);
        Assert.Equal(Ln2, Loss("""{"type": "bceWithLogits"}""", [0, 0, 0], [1, 3], [2]), 5);
        Assert.Equal((Ln2 + Ln2 + 3 * Ln2) / 3, Loss("""{"type": "bceWithLogits", "posWeight": [1, 1, 3]}""", [0, 0, 0], [1, 3], [2]), 5);
    }

    private static double Loss(string json, float[] outputs, long[] outputShape, long[]? targets, float[]? values = null, TargetKind kind = TargetKind.ClassIndex)
    {
        var errors = new ValidationErrors();
        var spec = LossCatalog.Instance.Resolve(JsonSerializer.Deserialize<LossSpec>(json), "loss", errors);
        Assert.True(errors.IsEmpty, errors.ToString());
        using var scope = NewDisposeScope();
        var target = kind == TargetKind.ClassIndex ? tensor(targets!) : tensor(values!, outputShape);
        return LossFactory.Create(spec!, kind)(tensor(outputs, outputShape), target).item<float>();
    }
}
