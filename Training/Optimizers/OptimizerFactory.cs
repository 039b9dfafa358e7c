using Experiments.Domain.Optimizers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Experiments.Training.Optimizers;

public static class OptimizerFactory
{
    /// <summary>Creates the optimizer of a resolved spec (every hyperparameter present, so TorchSharp's own defaults never apply).</summary>
    public static optim.Optimizer Create(OptimizerSpec spec, IEnumerable<Parameter> parameters) => spec.Type switch
    {
        "sgd" => optim.SGD(parameters, spec.Double("lr"), spec.Double("momentum"), spec.Double("dampening"), spec.Double("weightDecay"), spec.Bool("nesterov")),
        "adam" => optim.Adam(parameters, spec.Double("lr"), spec.Doubles("betas")[0], spec.Doubles("betas")[1], spec.Double("eps"), spec.Double("weightDecay"), spec.Bool("amsgrad")),
        "adamW" => optim.AdamW(parameters, spec.Double("lr"), spec.Doubles("betas")[0], spec.Doubles("betas")[1], spec.Double("eps"), spec.Double("weightDecay"), spec.Bool("amsgrad")),
        "rmsprop" => optim.RMSProp(parameters, spec.Double("lr"), spec.Double("alpha"), spec.Double("eps"), spec.Double("weightDecay"), spec.Double("momentum"), spec.Bool("centered")),
        "adagrad" => optim.Adagrad(parameters, spec.Double("lr"), spec.Double("lrDecay"), spec.Double("weightDecay"), spec.Double("initialAccumulatorValue"), spec.Double("eps")),
        _ => throw new ArgumentException($"Optimizer '{spec.Type}' is not supported.", nameof(spec)),
    };
}
