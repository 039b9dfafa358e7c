using Experiments.Domain.Specs;

namespace Experiments.Domain.Optimizers;

/// <summary>Optimizers and their hyperparameters, with the defaults of <c>torch.optim</c>.</summary>
public static class OptimizerCatalog
{
    public static ComponentCatalog Instance { get; } = new("optimizer",
    [
        new("sgd", "Stochastic gradient descent (torch.optim.SGD).",
        [
            new("lr", ParameterKind.Number, "Learning rate.", 0.001, Minimum: 0, ExclusiveMinimum: true),
            new("momentum", ParameterKind.Number, "Momentum factor.", 0.0, Minimum: 0),
            new("dampening", ParameterKind.Number, "Dampening for momentum.", 0.0, Minimum: 0),
            new("weightDecay", ParameterKind.Number, "L2 penalty.", 0.0, Minimum: 0),
            new("nesterov", ParameterKind.Boolean, "Use Nesterov momentum (needs momentum > 0 and dampening 0).", false),
        ]),
        new("adam", "Adam (torch.optim.Adam).",
        [
            new("lr", ParameterKind.Number, "Learning rate.", 0.001, Minimum: 0, ExclusiveMinimum: true),
            new("betas", ParameterKind.NumberList, "Coefficients for the running averages of the gradient and its square.", new[] { 0.9, 0.999 }, Minimum: 0, Maximum: 1, ExclusiveMaximum: true, Length: 2),
            new("eps", ParameterKind.Number, "Term added to the denominator for numerical stability.", 1e-8, Minimum: 0),
            new("weightDecay", ParameterKind.Number, "L2 penalty.", 0.0, Minimum: 0),
            new("amsgrad", ParameterKind.Boolean, "Use the AMSGrad variant.", false),
        ],
        new Dictionary<string, string>
        {
            ["momentum"] = "Adam's momentum terms are 'betas' (default [0.9, 0.999]); to use momentum, choose sgd.",
        }),
    ]);
}
