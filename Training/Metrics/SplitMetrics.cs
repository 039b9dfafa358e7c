using Experiments.Training.Data;
using static TorchSharp.torch;

namespace Experiments.Training.Metrics;

/// <summary>
/// One pass over a split: the mean loss, and accuracy for classification, or mean squared error, mean absolute
/// error and R² (averaged over target values, as scikit-learn's uniform average) for regression. The confusion
/// matrix ([true class][predicted class] → samples) when it was asked for.
/// </summary>
public sealed record SplitMetrics(long Samples, double Loss, double? Accuracy, double? Mse, double? Mae, double? R2, int[][]? ConfusionMatrix = null);

/// <summary>
/// Sums a pass's batches into <see cref="SplitMetrics"/>; call <see cref="Add"/> inside the batch's dispose scope.
/// Every sum stays on the batches' device and is copied to the host once, by <see cref="Result"/>: adding a batch
/// never waits for the device (on a GPU, a read per batch would stall the queue of kernels at every batch).
/// With <paramref name="confusionClasses"/> it also counts the confusion matrix.
/// </summary>
public sealed class MetricAccumulator(TargetKind kind, int? confusionClasses = null) : IDisposable
{
    private long _count;
    private Tensor? _lossSum;
    private Tensor? _correct;
    private Tensor? _confusion;
    private Tensor? _squaredErrors;
    private Tensor? _absoluteErrors;
    private Tensor? _targetSums;
    private Tensor? _targetSquares;

    /// <summary>Adds one batch's loss and outcomes; nothing is read back to the host.</summary>
    /// <param name="outputs">The model's outputs for the batch.</param>
    /// <param name="targets">The batch's class indices or target values.</param>
    /// <param name="loss">The batch's mean loss, a scalar tensor.</param>
    public void Add(Tensor outputs, Tensor targets, Tensor loss)
    {
        var size = targets.shape[0];
        _count += size;
        if (_lossSum is null)
        {
            _lossSum = zeros([], ScalarType.Float64, loss.device);
            _lossSum.DetachFromDisposeScope();
        }
        _lossSum.add_(loss.detach(), size);
        using var predictions = outputs.detach();
        if (kind == TargetKind.ClassIndex)
        {
            var predicted = Predict(predictions);
            Accumulate(ref _correct, predicted.eq(targets).sum());
            if (confusionClasses is { } classes)
            {
                if (_confusion is null)
                {
                    _confusion = zeros([classes * classes], ScalarType.Int64, predictions.device);
                    _confusion.DetachFromDisposeScope();
                }
                var cells = targets * classes + predicted;
                _confusion.index_add_(0, cells, ones_like(cells), 1);
            }
            return;
        }
        var errors = predictions - targets;
        Accumulate(ref _squaredErrors, errors.square().sum(0, type: ScalarType.Float64));
        Accumulate(ref _absoluteErrors, errors.abs().sum(0, type: ScalarType.Float64));
        Accumulate(ref _targetSums, targets.sum(0, type: ScalarType.Float64));
        Accumulate(ref _targetSquares, targets.square().sum(0, type: ScalarType.Float64));
    }

    public SplitMetrics Result()
    {
        if (_count == 0)
        {
            return new SplitMetrics(0, double.NaN, kind == TargetKind.ClassIndex ? double.NaN : null, null, null, null);
        }
        var loss = Read(_lossSum!)[0] / _count;
        if (kind == TargetKind.ClassIndex)
        {
            return new SplitMetrics(_count, loss, Read(_correct!)[0] / _count, null, null, null, ConfusionMatrix());
        }
        var squaredErrors = Read(_squaredErrors!);
        var absoluteErrors = Read(_absoluteErrors!);
        var targetSums = Read(_targetSums!);
        var targetSquares = Read(_targetSquares!);
        var values = squaredErrors.Length;
        var r2 = Enumerable.Range(0, values).Average(column =>
        {
            var total = targetSquares[column] - targetSums[column] * targetSums[column] / _count;
            return total > 0 ? 1 - squaredErrors[column] / total : double.NaN;
        });
        return new SplitMetrics(_count, loss, null, squaredErrors.Sum() / (_count * values), absoluteErrors.Sum() / (_count * values), r2);
    }

    public void Dispose()
    {
        foreach (var sum in new[] { _lossSum, _correct, _confusion, _squaredErrors, _absoluteErrors, _targetSums, _targetSquares })
        {
            sum?.Dispose();
        }
    }

    private int[][]? ConfusionMatrix()
    {
        if (confusionClasses is not { } classes)
        {
            return null;
        }
        using var counts = _confusion?.cpu();
        var flat = counts?.data<long>().ToArray() ?? new long[classes * classes];
        return Enumerable.Range(0, classes)
            .Select(row => Enumerable.Range(0, classes).Select(column => (int)flat[row * classes + column]).ToArray())
            .ToArray();
    }

    /// <summary>The predicted class: the largest logit, or for a single logit (bceWithLogits) whether it is positive.</summary>
    internal static Tensor Predict(Tensor outputs) =>
        outputs.shape[1] == 1 ? outputs.squeeze(1).gt(0).to(ScalarType.Int64) : outputs.argmax(1);

    /// <summary>Adds a batch's sum to a running sum that outlives the batch's dispose scope.</summary>
    private static void Accumulate(ref Tensor? sum, Tensor batchSum)
    {
        if (sum is null)
        {
            sum = batchSum.clone();
            sum.DetachFromDisposeScope();
        }
        else
        {
            sum.add_(batchSum);
        }
    }

    private static double[] Read(Tensor sum)
    {
        using var values = sum.cpu();
        return values.to(ScalarType.Float64).data<double>().ToArray();
    }
}
