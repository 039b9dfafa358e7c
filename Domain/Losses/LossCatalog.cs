using Experiments.Domain.Specs;

namespace Experiments.Domain.Losses;

/// <summary>Losses and their hyperparameters, with the defaults of <c>torch.nn</c>.</summary>
public static class LossCatalog
{
    public static ComponentCatalog Instance { get; } = new("loss",
    [
        new("crossEntropy", "Cross entropy over class logits (torch.nn.CrossEntropyLoss); the model's last layer gives one logit per class.",
        [
            new("labelSmoothing", ParameterKind.Number, "Amount of label smoothing.", 0.0, Minimum: 0, Maximum: 1),
        ]),
    ]);
}
