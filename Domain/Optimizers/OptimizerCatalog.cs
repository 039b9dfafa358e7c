using Experiments.Domain.Specs;

namespace Experiments.Domain.Optimizers;

/// <summary>Optimizers and their hyperparameters, with the defaults of <c>torch.optim</c> (PyTorch 2.x).</summary>
public static class OptimizerCatalog
{
    // Declared before Instance: static initializers run in order.
    private static readonly double[] DefaultBetas = [0.9, 0.999];

    public static ComponentCatalog Instance { get; } = new("optimizer",
    [
        new("sgd", "Stochastic gradient descent, optionally with momentum (torch.optim.SGD).",
        [
            LearningRate(0.001),
            new("momentum", ParameterKind.Number, "Momentum factor.", 0.0, Minimum: 0),
            new("dampening", ParameterKind.Number, "Dampening for momentum.", 0.0, Minimum: 0),
            WeightDecay(0.0),
            new("nesterov", ParameterKind.Boolean, "Use Nesterov momentum (needs momentum > 0 and dampening 0).", false),
        ],
        Hints(("betas", "Betas are Adam's momentum terms; sgd's is 'momentum'.")),
        [
            new("nesterov", spec => spec.Bool("nesterov") && (spec.Double("momentum") <= 0 || spec.Double("dampening") != 0)
                ? $"needs momentum > 0 and dampening 0 (got momentum {spec.Double("momentum")}, dampening {spec.Double("dampening")}), as in PyTorch; set momentum, e.g. 0.9."
                : null),
        ]),
        new("adam", "Adam (torch.optim.Adam).", AdamParameters(weightDecay: 0.0), AdamHints("adam")),
        new("adamW", "Adam with decoupled weight decay (torch.optim.AdamW).", AdamParameters(weightDecay: 0.01), AdamHints("adamW")),
        new("rmsprop", "RMSprop (torch.optim.RMSprop).",
        [
            LearningRate(0.01),
            new("alpha", ParameterKind.Number, "Smoothing constant of the running average of squared gradients.", 0.99, Minimum: 0, Maximum: 1),
            Epsilon(1e-8),
            WeightDecay(0.0),
            new("momentum", ParameterKind.Number, "Momentum factor.", 0.0, Minimum: 0),
            new("centered", ParameterKind.Boolean, "Normalize the gradient by an estimate of its variance.", false),
        ],
        Hints(("betas", "rmsprop's running average is set by 'alpha' (default 0.99); betas belong to adam and adamW."))),
        new("adagrad", "Adagrad (torch.optim.Adagrad).",
        [
            LearningRate(0.01),
            new("lrDecay", ParameterKind.Number, "Learning rate decay.", 0.0, Minimum: 0),
            WeightDecay(0.0),
            new("initialAccumulatorValue", ParameterKind.Number, "Starting value of the sum of squared gradients.", 0.0, Minimum: 0),
            Epsilon(1e-10),
        ],
        Hints(("momentum", "Adagrad has no momentum; choose sgd, rmsprop or adam for momentum."))),
    ]);

    private static ParameterDefinition LearningRate(double value) =>
        new("lr", ParameterKind.Number, "Learning rate.", value, Minimum: 0, ExclusiveMinimum: true);

    private static ParameterDefinition WeightDecay(double value) =>
        new("weightDecay", ParameterKind.Number, "Weight decay (L2 penalty; decoupled in adamW).", value, Minimum: 0);

    private static ParameterDefinition Epsilon(double value) =>
        new("eps", ParameterKind.Number, "Term added to the denominator for numerical stability.", value, Minimum: 0);

    private static ParameterDefinition[] AdamParameters(double weightDecay) =>
    [
        LearningRate(0.001),
        new("betas", ParameterKind.NumberList, "Coefficients for the running averages of the gradient and its square.", DefaultBetas, Minimum: 0, Maximum: 1, ExclusiveMaximum: true, Length: 2),
        Epsilon(1e-8),
        WeightDecay(weightDecay),
        new("amsgrad", ParameterKind.Boolean, "Use the AMSGrad variant.", false),
    ];

    private static Dictionary<string, string> AdamHints(string type) => Hints(
        ("momentum", $"{Capitalize(type)}'s momentum terms are 'betas' (default [0.9, 0.999]); to use momentum, choose sgd."),
        ("beta1", "Give both coefficients as 'betas', e.g. [0.9, 0.999]."),
        ("beta2", "Give both coefficients as 'betas', e.g. [0.9, 0.999]."));

    /// <summary>Slips every optimizer shares, plus its own.</summary>
    private static Dictionary<string, string> Hints(params (string Name, string Hint)[] own)
    {
        var hints = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["learningRate"] = "The learning rate is 'lr'.",
            ["learning_rate"] = "The learning rate is 'lr'.",
        };
        foreach (var (name, hint) in own)
        {
            hints[name] = hint;
        }
        return hints;
    }

    private static string Capitalize(string text) => char.ToUpperInvariant(text[0]) + text[1..];
}
