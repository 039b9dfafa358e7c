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
            var inputs = split.Features.narrow(0, start, size);
            var targets = split.Labels.narrow(0, start, size);
            var outputs = model.forward(inputs);
            metrics.Add(outputs, targets, loss(outputs, targets));
        }
        return metrics.Result();
    }
}
