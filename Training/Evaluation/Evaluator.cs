using Experiments.Training.Data;
using Experiments.Training.Metrics;
using static TorchSharp.torch;

namespace Experiments.Training.Evaluation;

public static class Evaluator
{
    /// <summary>
    /// Mean loss and the task's metrics over a split, batch by batch in eval mode without gradients; with
    /// <paramref name="confusionClasses"/> also a classifier's confusion matrix.
    /// </summary>
    public static SplitMetrics Evaluate(
        nn.Module<Tensor, Tensor> model, Func<Tensor, Tensor, Tensor> loss, TensorSplit split, int batchSize, TargetKind targetKind, int? confusionClasses = null)
    {
        using var metrics = new MetricAccumulator(targetKind, confusionClasses);
        model.eval();
        using var noGrad = no_grad();
        for (long start = 0; start < split.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var size = Math.Min(batchSize, split.Count - start);
            var (inputs, targets) = split.Slice(start, size);
            var outputs = model.forward(inputs);
            metrics.Add(outputs, targets, loss(outputs, targets));
        }
        return metrics.Result();
    }

    /// <summary>
    /// Each sample's predicted class, decided as <see cref="Evaluate"/>'s confusion matrix counts it (batch by batch, the
    /// same batches), and every class's probability (<see cref="Probabilities"/>). Stops between batches when cancelled.
    /// </summary>
    public static ClassifiedSamples Classify(nn.Module<Tensor, Tensor> model, TensorSplit split, int batchSize, CancellationToken cancellationToken)
    {
        model.eval();
        using var noGrad = no_grad();
        var count = checked((int)split.Count);
        var predicted = new int[count];
        var probabilities = new float[count][];
        for (var start = 0; start < count; start += batchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var size = Math.Min(batchSize, count - start);
            var outputs = model.forward(split.Slice(start, size).Inputs);
            var classes = MetricAccumulator.Predict(outputs).cpu().data<long>().ToArray();
            var batchProbabilities = Probabilities(outputs).cpu().contiguous();
            var width = (int)batchProbabilities.shape[1];
            var flat = batchProbabilities.data<float>().ToArray();
            for (var row = 0; row < size; row++)
            {
                predicted[start + row] = (int)classes[row];
                probabilities[start + row] = flat.AsSpan(row * width, width).ToArray();
            }
        }
        return new ClassifiedSamples(predicted, probabilities);
    }

    /// <summary>A classifier's outputs as every class's probability: the softmax of the logits, or for a single logit (bceWithLogits on two classes) [1 − σ(z), σ(z)].</summary>
    public static Tensor Probabilities(Tensor outputs) =>
        outputs.shape[1] == 1 ? cat([1 - sigmoid(outputs), sigmoid(outputs)], 1) : nn.functional.softmax(outputs, 1);
}

/// <summary>Per sample of a split, in its order: the predicted class and every class's probability.</summary>
public sealed record ClassifiedSamples(int[] Predicted, float[][] Probabilities);
