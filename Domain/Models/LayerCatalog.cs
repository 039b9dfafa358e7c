using Experiments.Domain.Specs;

namespace Experiments.Domain.Models;

/// <summary>Layer types and their hyperparameters, named as in <c>torch.nn</c> (camelCase).</summary>
public static class LayerCatalog
{
    public static ComponentCatalog Instance { get; } = new("layer",
    [
        new("linear", "Fully connected layer y = xWᵀ + b (torch.nn.Linear); inFeatures is inferred from the previous layer.",
        [
            new("outFeatures", ParameterKind.Integer, "Number of output features.", Required: true, Minimum: 1),
            new("bias", ParameterKind.Boolean, "Learn an additive bias.", true),
        ],
        new Dictionary<string, string>
        {
            ["inFeatures"] = "It is inferred from the previous layer's output shape; leave it out.",
        }),
        new("relu", "Rectified linear unit (torch.nn.ReLU).", []),
        new("sigmoid", "Logistic sigmoid (torch.nn.Sigmoid).", []),
        new("tanh", "Hyperbolic tangent (torch.nn.Tanh).", []),
        new("dropout", "Zeroes elements with probability p while training (torch.nn.Dropout).",
        [
            new("p", ParameterKind.Number, "Probability of an element to be zeroed.", 0.5, Minimum: 0, Maximum: 1, ExclusiveMaximum: true),
        ]),
        new("flatten", "Flattens dimensions startDim..endDim into one (torch.nn.Flatten); dimension 0 is the batch.",
        [
            new("startDim", ParameterKind.Integer, "First dimension to flatten (1 = the first dimension of a sample).", 1L, Minimum: 1),
            new("endDim", ParameterKind.Integer, "Last dimension to flatten (-1 = the last).", -1L),
        ]),
    ]);
}
