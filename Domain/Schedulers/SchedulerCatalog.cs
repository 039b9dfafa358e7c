using Experiments.Domain.Specs;

namespace Experiments.Domain.Schedulers;

/// <summary>
/// Learning-rate schedulers, named and defaulted as in <c>torch.optim.lr_scheduler</c>. Epoch schedulers step
/// after every epoch; oneCycleLR steps after every batch; reduceLROnPlateau watches a test metric after every
/// epoch. Every scheduler but oneCycleLR (which warms up by itself) takes an optional linear warm-up: the
/// learning rate rises batch by batch from <c>warmupStartFactor × lr</c> to <c>lr</c> over <c>warmupEpochs</c>
/// epochs, and the schedule starts after it, counting epochs from there.
/// </summary>
public static class SchedulerCatalog
{
    public const string TestLoss = "testLoss";
    public const string TestAccuracy = "testAccuracy";

    public static ComponentCatalog Instance { get; } = new("scheduler",
    [
        new("stepLR", "Multiplies the learning rate by gamma every stepSize epochs (torch.optim.lr_scheduler.StepLR).",
        [
            new("stepSize", ParameterKind.Integer, "Epochs between two decays.", Required: true, Minimum: 1),
            Gamma(0.1),
            .. Warmup(),
        ]),
        new("multiStepLR", "Multiplies the learning rate by gamma at each milestone epoch (torch.optim.lr_scheduler.MultiStepLR).",
        [
            new("milestones", ParameterKind.IntegerList, "Epochs at which to decay, increasing, e.g. [30, 80].", Required: true, Minimum: 1),
            Gamma(0.1),
            .. Warmup(),
        ],
        Rules:
        [
            new("milestones", spec => spec.Ints("milestones") is { Length: > 0 } milestones && milestones.Zip(milestones.Skip(1)).All(pair => pair.First < pair.Second)
                ? null
                : $"must be a non-empty list of increasing epochs, e.g. [30, 80]; got [{string.Join(", ", spec.Ints("milestones"))}]."),
        ]),
        new("exponentialLR", "Multiplies the learning rate by gamma every epoch (torch.optim.lr_scheduler.ExponentialLR).",
        [
            new("gamma", ParameterKind.Number, "Factor applied every epoch, e.g. 0.95.", Required: true, Minimum: 0, ExclusiveMinimum: true),
            .. Warmup(),
        ]),
        new("cosineAnnealingLR", "Anneals the learning rate from lr to etaMin along a half cosine over tMax epochs (torch.optim.lr_scheduler.CosineAnnealingLR).",
        [
            new("tMax", ParameterKind.Integer, "Epochs of the half cosine; none means the run's epochs after the warm-up.", Minimum: 1),
            new("etaMin", ParameterKind.Number, "Smallest learning rate.", 0.0, Minimum: 0),
            .. Warmup(),
        ],
        new Dictionary<string, string> { ["T_max"] = "Did you mean 'tMax'?", ["eta_min"] = "Did you mean 'etaMin'?" }),
        new("oneCycleLR", "The 1cycle policy (torch.optim.lr_scheduler.OneCycleLR): warms up from maxLr/divFactor to maxLr, then anneals far below; steps after every batch.",
        [
            new("maxLr", ParameterKind.Number, "Peak learning rate; the optimizer's lr is not used.", Required: true, Minimum: 0, ExclusiveMinimum: true),
            new("pctStart", ParameterKind.Number, "Fraction of the steps spent increasing the learning rate.", 0.3, Minimum: 0, ExclusiveMinimum: true, Maximum: 1, ExclusiveMaximum: true),
            new("annealStrategy", ParameterKind.Text, "'cos' or 'linear' annealing.", "cos", AllowedValues: ["cos", "linear"]),
            new("cycleMomentum", ParameterKind.Boolean, "Cycle momentum (sgd, rmsprop) or beta1 (adam, adamW) inversely to the learning rate.", true),
            new("baseMomentum", ParameterKind.Number, "Lowest momentum, reached at the peak learning rate.", 0.85, Minimum: 0, Maximum: 1),
            new("maxMomentum", ParameterKind.Number, "Highest momentum, at the start and the end.", 0.95, Minimum: 0, Maximum: 1),
            new("divFactor", ParameterKind.Number, "Initial learning rate = maxLr / divFactor.", 25.0, Minimum: 0, ExclusiveMinimum: true),
            new("finalDivFactor", ParameterKind.Number, "Final learning rate = initial learning rate / finalDivFactor.", 1e4, Minimum: 0, ExclusiveMinimum: true),
            new("threePhase", ParameterKind.Boolean, "Anneal back to the initial learning rate before the final decay.", false),
        ],
        new Dictionary<string, string>
        {
            ["totalSteps"] = "It is the run's epochs times its batches per epoch; leave it out.",
            ["epochs"] = "It is the run's epochs; leave it out.",
            ["stepsPerEpoch"] = "It is the run's batches per epoch; leave it out.",
            ["warmupEpochs"] = "oneCycleLR warms up by itself over the first pctStart of the steps.",
        },
        [
            new("maxMomentum", spec => spec.Double("baseMomentum") > spec.Double("maxMomentum")
                ? $"must be at least baseMomentum ({spec.Double("baseMomentum")}); got {spec.Double("maxMomentum")}."
                : null),
        ]),
        new("reduceLROnPlateau", "Multiplies the learning rate by factor when a test metric stops improving (torch.optim.lr_scheduler.ReduceLROnPlateau).",
        [
            new("monitor", ParameterKind.Text, "The metric watched after every epoch: testLoss (lower is better) or testAccuracy (higher is better).", TestLoss, AllowedValues: [TestLoss, TestAccuracy]),
            new("factor", ParameterKind.Number, "Factor applied on a plateau.", 0.1, Minimum: 0, ExclusiveMinimum: true, Maximum: 1, ExclusiveMaximum: true),
            new("patience", ParameterKind.Integer, "Epochs without improvement to wait before reducing.", 10L, Minimum: 0),
            new("threshold", ParameterKind.Number, "Smallest change that counts as an improvement.", 1e-4, Minimum: 0),
            new("thresholdMode", ParameterKind.Text, "'rel': relative to the best value; 'abs': absolute.", "rel", AllowedValues: ["rel", "abs"]),
            new("cooldown", ParameterKind.Integer, "Epochs to wait after a reduction before watching again.", 0L, Minimum: 0),
            new("minLr", ParameterKind.Number, "Smallest learning rate.", 0.0, Minimum: 0),
            new("eps", ParameterKind.Number, "Reductions smaller than this are skipped.", 1e-8, Minimum: 0),
            .. Warmup(),
        ],
        new Dictionary<string, string>
        {
            ["mode"] = "The direction follows 'monitor': testLoss is minimised, testAccuracy maximised.",
        }),
    ]);

    private static ParameterDefinition Gamma(double value) =>
        new("gamma", ParameterKind.Number, "Multiplicative factor of the decay.", value, Minimum: 0, ExclusiveMinimum: true);

    private static ParameterDefinition[] Warmup() =>
    [
        new("warmupEpochs", ParameterKind.Integer, "Epochs of linear warm-up before the schedule starts; 0 for none.", 0L, Minimum: 0),
        new("warmupStartFactor", ParameterKind.Number, "Fraction of lr the warm-up starts from (torch.optim.lr_scheduler.LinearLR's start_factor).", 1.0 / 3, Minimum: 0, ExclusiveMinimum: true, Maximum: 1),
    ];
}
