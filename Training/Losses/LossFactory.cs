using Experiments.Domain.Losses;
using Experiments.Training.Data;
using static TorchSharp.torch;

namespace Experiments.Training.Losses;

/// <summary>
/// Turns a resolved loss spec into (model output, target) → mean loss over the batch, adapting the targets
/// to what each loss takes: class indices for crossEntropy and nll; float values for the regression losses,
/// or one-hot labels with <c>oneHot</c>; float labels for bceWithLogits (a column of 0/1 for one logit,
/// one-hot for one logit per class). Which combinations fit a dataset is checked before the run starts.
/// </summary>
public static class LossFactory
{
    public static Func<Tensor, Tensor, Tensor> Create(LossSpec spec, TargetKind targets)
    {
        switch (spec.Type)
        {
            case "crossEntropy":
            {
                var smoothing = spec.Double("labelSmoothing");
                var weights = Weights(spec, "weight");
                return (output, target) =>
                {
                    using var weight = OnDevice(weights, output);
                    return nn.functional.cross_entropy(output, target, weight, label_smoothing: smoothing);
                };
            }
            case "nll":
            {
                var weights = Weights(spec, "weight");
                return (output, target) =>
                {
                    using var weight = OnDevice(weights, output);
                    return nn.functional.nll_loss(output, target, weight);
                };
            }
            case "mse":
                return Compare(spec, targets, (output, target) => nn.functional.mse_loss(output, target));
            case "l1":
                return Compare(spec, targets, (output, target) => nn.functional.l1_loss(output, target));
            case "smoothL1":
            {
                var beta = spec.Double("beta");
                return Compare(spec, targets, (output, target) => nn.functional.smooth_l1_loss(output, target, beta: beta));
            }
            case "huber":
            {
                var delta = spec.Double("delta");
                return Compare(spec, targets, (output, target) => nn.functional.huber_loss(output, target, delta));
            }
            case "bceWithLogits":
            {
                var positives = Weights(spec, "posWeight");
                return (output, target) =>
                {
                    using var labels = targets == TargetKind.ClassIndex ? Labels(output, target) : target.alias();
                    using var posWeight = OnDevice(positives, output);
                    return nn.functional.binary_cross_entropy_with_logits(output, labels, pos_weights: posWeight);
                };
            }
            default:
                throw new ArgumentException($"Loss '{spec.Type}' is not supported.", nameof(spec));
        }
    }

    /// <summary>A value loss against regression targets, or against one-hot labels when the spec asks for it.</summary>
    private static Func<Tensor, Tensor, Tensor> Compare(LossSpec spec, TargetKind targets, Func<Tensor, Tensor, Tensor> loss)
    {
        if (targets == TargetKind.Values || !spec.Bool("oneHot"))
        {
            return loss;
        }
        return (output, target) =>
        {
            using var labels = Labels(output, target);
            return loss(output, labels);
        };
    }

    /// <summary>Class indices as float labels shaped like the output: [N,1] of 0/1 for one logit, one-hot [N,C] otherwise.</summary>
    private static Tensor Labels(Tensor output, Tensor target)
    {
        if (output.shape[1] == 1)
        {
            return target.to(output.dtype).unsqueeze(1);
        }
        using var oneHot = nn.functional.one_hot(target, output.shape[1]);
        return oneHot.to(output.dtype);
    }

    private static float[]? Weights(LossSpec spec, string name) =>
        spec.Has(name) ? [.. spec.Doubles(name).Select(value => (float)value)] : null;

    private static Tensor? OnDevice(float[]? values, Tensor like) =>
        values is null ? null : tensor(values, dtype: like.dtype, device: like.device);
}
