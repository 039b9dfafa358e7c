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
/// With <paramref name="confusionClasses"/> it also counts the confusion matrix, on the device, copying it to
/// the host once at the end.
/// </summary>
public sealed class MetricAccumulator(TargetKind kind, int? confusionClasses = null) : IDisposable
{
    private readonly Tensor? _confusion = kind == TargetKind.ClassIndex && confusionClasses is { } classes
        ? zeros([classes * classes], ScalarType.Int64)
        : null;

    private double _lossSum;
    private long _count;
    private long _correct;
    private double[]? _squaredErrors;
    private double[]? _absoluteErrors;
    private double[]? _targetSums;
    private double[]? _targetSquares;

    public void Add(Tensor outputs, Tensor targets, double loss)
    {
        var size = targets.shape[0];
        _lossSum += loss * size;
        _count += size;
        using var predictions = outputs.detach();
        if (kind == TargetKind.ClassIndex)
        {
            var predicted = Predict(predictions);
            _correct += predicted.eq(targets).sum().item<long>();
            if (_confusion is not null)
            {
                var cells = (targets * confusionClasses!.Value + predicted).cpu();
                _confusion.index_add_(0, cells, ones_like(cells), 1);
            }
            return;
        }
        var errors = predictions - targets;
        Accumulate(ref _squaredErrors, errors.square());
        Accumulate(ref _absoluteErrors, errors.abs());
        Accumulate(ref _targetSums, targets);
        Accumulate(ref _targetSquares, targets.square());
    }

    public SplitMetrics Result()
    {
        if (_count == 0)
        {
            return new SplitMetrics(0, double.NaN, kind == TargetKind.ClassIndex ? double.NaN : null, null, null, null);
        }
        var loss = _lossSum / _count;
        if (kind == TargetKind.ClassIndex)
        {
            return new SplitMetrics(_count, loss, (double)_correct / _count, null, null, null, ConfusionMatrix());
        }
        var values = _squaredErrors!.Length;
        var r2 = Enumerable.Range(0, values).Average(column =>
        {
            var total = _targetSquares![column] - _targetSums![column] * _targetSums[column] / _count;
            return total > 0 ? 1 - _squaredErrors[column] / total : double.NaN;
        });
        return new SplitMetrics(_count, loss, null, _squaredErrors.Sum() / (_count * values), _absoluteErrors!.Sum() / (_count * values), r2);
    }

    public void Dispose() => _confusion?.Dispose();

    private int[][]? ConfusionMatrix()
    {
        if (_confusion is null)
        {
            return null;
        }
        var classes = confusionClasses!.Value;
        var flat = _confusion.data<long>().ToArray();
        return Enumerable.Range(0, classes)
            .Select(row => Enumerable.Range(0, classes).Select(column => (int)flat[row * classes + column]).ToArray())
            .ToArray();
    }

    /// <summary>The predicted class: the largest logit, or for a single logit (bceWithLogits) whether it is positive.</summary>
    private static Tensor Predict(Tensor outputs) =>
        outputs.shape[1] == 1 ? outputs.squeeze(1).gt(0).to(ScalarType.Int64) : outputs.argmax(1);

    /// <summary>Adds the column sums of a [N, targetSize] batch, in double precision.</summary>
    private static void Accumulate(ref double[]? sums, Tensor values)
    {
        var columns = values.sum(0, type: ScalarType.Float64).cpu().data<double>().ToArray();
        sums ??= new double[columns.Length];
        for (var column = 0; column < columns.Length; column++)
        {
            sums[column] += columns[column];
        }
    }
}
