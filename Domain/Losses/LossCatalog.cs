using Experiments.Domain.Specs;

namespace Experiments.Domain.Losses;

/// <summary>
/// Losses and their hyperparameters, with the defaults of <c>torch.nn</c>. Which loss fits which dataset and
/// model output is checked by <see cref="Runs.RunSpecValidator.CheckFit"/>: classification losses take class
/// labels, regression losses compare values (or one-hot labels, with <c>oneHot</c>).
/// </summary>
public static class LossCatalog
{
    /// <summary>Losses that take class indices: the dataset must be a classification dataset.</summary>
    public static IReadOnlySet<string> ClassIndexLosses { get; } = new HashSet<string>(StringComparer.Ordinal) { "crossEntropy", "nll" };

    /// <summary>Losses that compare the output with numbers: regression targets, or one-hot labels.</summary>
    public static IReadOnlySet<string> ValueLosses { get; } = new HashSet<string>(StringComparer.Ordinal) { "mse", "l1", "smoothL1", "huber" };

    public static ComponentCatalog Instance { get; } = new("loss",
    [
        new("crossEntropy", "Cross entropy over class logits (torch.nn.CrossEntropyLoss): the model's last layer gives one logit per class; it applies log-softmax itself.",
        [
            new("labelSmoothing", ParameterKind.Number, "Amount of label smoothing.", 0.0, Minimum: 0, Maximum: 1),
            ClassWeights(),
        ]),
        new("nll", "Negative log likelihood (torch.nn.NLLLoss): takes log-probabilities, so the model ends with logSoftmax.",
        [
            ClassWeights(),
        ]),
        new("mse", "Mean squared error (torch.nn.MSELoss).", [OneHot()]),
        new("l1", "Mean absolute error (torch.nn.L1Loss).", [OneHot()]),
        new("smoothL1", "Smooth L1 (torch.nn.SmoothL1Loss): squared below beta, absolute above.",
        [
            new("beta", ParameterKind.Number, "Where the loss changes from squared to absolute.", 1.0, Minimum: 0),
            OneHot(),
        ]),
        new("huber", "Huber loss (torch.nn.HuberLoss): squared below delta, delta-scaled absolute above.",
        [
            new("delta", ParameterKind.Number, "Where the loss changes from squared to absolute.", 1.0, Minimum: 0, ExclusiveMinimum: true),
            OneHot(),
        ]),
        new("bceWithLogits", "Binary cross entropy on logits (torch.nn.BCEWithLogitsLoss): one logit for two classes, or one per class against one-hot labels; it applies the sigmoid itself.",
        [
            new("posWeight", ParameterKind.NumberList, "Weight of positive examples, one per output; none means 1.", Minimum: 0),
        ]),
    ]);

    private static ParameterDefinition ClassWeights() =>
        new("weight", ParameterKind.NumberList, "Weight of each class, one per class; none means equal weights.", Minimum: 0);

    private static ParameterDefinition OneHot() =>
        new("oneHot", ParameterKind.Boolean, "Compare the output with one-hot class labels (classification datasets; one output per class).", false);
}
