using Experiments.Training.Data;
using static TorchSharp.torch;

namespace Experiments.Training.Metrics;

/// <summary>
/// One pass over a split: the mean loss, and accuracy for classification, or mean squared error, mean absolute
/// error and R² (averaged over target values, as scikit-learn's uniform average) for regression.
/// </summary>
public sealed record SplitMetrics(double Loss, double? Accuracy, double? Mse, double? Mae, double? R2);

/// <summary>Sums a pass's batches into <see cref="SplitMetrics"/>; call <see cref="Add"/> inside the batch's dispose scope.</summary>
public sealed class MetricAccumulator(TargetKind kind)
{
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
            _correct += Predict(predictions).eq(targets).sum().item<long>();
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
            return new SplitMetrics(double.NaN, kind == TargetKind.ClassIndex ? double.NaN : null, null, null, null);
        }
        var loss = _lossSum / _count;
        if (kind == TargetKind.ClassIndex)
        {
            return new SplitMetrics(loss, (double)_correct / _count, null, null, null);
        }
        var values = _squaredErrors!.Length;
        var r2 = Enumerable.Range(0, values).Average(column =>
        {
            var total = _targetSquares![column] - _targetSums![column] * _targetSums[column] / _count;
            return total > 0 ? 1 - _squaredErrors[column] / total : double.NaN;
        });
        return new SplitMetrics(loss, null, _squaredErrors.Sum() / (_count * values), _absoluteErrors!.Sum() / (_count * values), r2);
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
