using Experiments.Training.Data;
using static TorchSharp.torch;

namespace Experiments.Training.Evaluation;

/// <summary>Loss, accuracy and the confusion matrix of a classifier on one split.</summary>
/// <param name="ConfusionMatrix">[true class][predicted class] → sample count.</param>
public sealed record EvaluationResult(int Samples, double Loss, double Accuracy, int[][] ConfusionMatrix);

public static class Evaluator
{
    /// <summary>Mean loss and accuracy over a split, in eval mode without gradients.</summary>
    public static (double Loss, double Accuracy) LossAndAccuracy(nn.Module<Tensor, Tensor> model, Func<Tensor, Tensor, Tensor> loss, TensorSplit split, int batchSize)
    {
        var result = Evaluate(model, loss, split, batchSize, classCount: null);
        return (result.Loss, result.Accuracy);
    }

    /// <summary>
    /// Evaluates batch by batch in eval mode without gradients. With <paramref name="classCount"/> it also
    /// counts the confusion matrix (on the device, one copy to the host at the end).
    /// </summary>
    public static EvaluationResult Evaluate(nn.Module<Tensor, Tensor> model, Func<Tensor, Tensor, Tensor> loss, TensorSplit split, int batchSize, int? classCount)
    {
        if (split.Count == 0)
        {
            return new EvaluationResult(0, double.NaN, double.NaN, []);
        }
        model.eval();
        using var noGrad = no_grad();
        using var confusion = classCount is { } classes ? zeros([classes * classes], ScalarType.Int64, split.Labels.device) : null;
        double lossSum = 0;
        long correct = 0;
        for (long start = 0; start < split.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var size = Math.Min(batchSize, split.Count - start);
            var inputs = split.Features.narrow(0, start, size);
            var targets = split.Labels.narrow(0, start, size);
            var outputs = model.forward(inputs);
            lossSum += loss(outputs, targets).item<float>() * size;
            var predicted = outputs.argmax(1);
            correct += predicted.eq(targets).sum().item<long>();
            if (confusion is not null)
            {
                confusion.index_add_(0, targets * classCount!.Value + predicted, ones_like(predicted), 1);
            }
        }
        var matrix = confusion is null ? [] : ToMatrix(confusion.cpu().data<long>().ToArray(), classCount!.Value);
        return new EvaluationResult((int)split.Count, lossSum / split.Count, (double)correct / split.Count, matrix);
    }

    private static int[][] ToMatrix(long[] flat, int classes)
    {
        var matrix = new int[classes][];
        for (var row = 0; row < classes; row++)
        {
            matrix[row] = new int[classes];
            for (var column = 0; column < classes; column++)
            {
                matrix[row][column] = (int)flat[row * classes + column];
            }
        }
        return matrix;
    }
}
