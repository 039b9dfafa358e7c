using Experiments.Domain.Losses;
using static TorchSharp.torch;

namespace Experiments.Training.Losses;

public static class LossFactory
{
    /// <summary>The loss of a resolved spec: (model output, target) → mean loss over the batch.</summary>
    public static Func<Tensor, Tensor, Tensor> Create(LossSpec spec)
    {
        switch (spec.Type)
        {
            case "crossEntropy":
                var smoothing = spec.Double("labelSmoothing");
                return (output, target) => nn.functional.cross_entropy(output, target, label_smoothing: smoothing);
            default:
                throw new ArgumentException($"Loss '{spec.Type}' is not supported.", nameof(spec));
        }
    }
}
