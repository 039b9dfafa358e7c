using Experiments.Domain.Schedulers;
using static TorchSharp.torch;
using static TorchSharp.torch.optim.lr_scheduler;
using OneCycle = TorchSharp.torch.optim.lr_scheduler.impl.OneCycleLR;

namespace Experiments.Training.Schedulers;

/// <summary>
/// Drives an optimizer's learning rate through a run: an optional linear warm-up, batch by batch, from
/// <c>warmupStartFactor × lr</c> to <c>lr</c>, then the TorchSharp scheduler of the spec, created when the warm-up
/// ends so that it starts from <c>lr</c> and counts its epochs from there. oneCycleLR steps after every batch,
/// reduceLROnPlateau after every epoch with the test metric it watches, the others after every epoch.
/// </summary>
public sealed class LearningRateSchedule
{
    private readonly SchedulerSpec? _spec;
    private readonly optim.Optimizer _optimizer;
    private readonly int _totalSteps;
    private readonly int _warmupEpochs;
    private readonly int _warmupSteps;
    private readonly double _warmupStart;
    private readonly double _baseRate;
    private int _step;
    private LRScheduler? _scheduler;

    private LearningRateSchedule(SchedulerSpec? spec, optim.Optimizer optimizer, int epochs, int batchesPerEpoch)
    {
        _spec = spec;
        _optimizer = optimizer;
        _totalSteps = epochs * batchesPerEpoch;
        _baseRate = LearningRate;
        _warmupEpochs = spec is not null && spec.Has("warmupEpochs") ? spec.Int("warmupEpochs") : 0;
        _warmupSteps = _warmupEpochs * batchesPerEpoch;
        _warmupStart = _warmupEpochs > 0 ? spec!.Double("warmupStartFactor") : 1;
        if (_warmupSteps > 0)
        {
            LearningRate = _baseRate * _warmupStart;
        }
        else if (spec is not null)
        {
            _scheduler = CreateScheduler(spec);
        }
    }

    /// <summary>Whether the scheduler steps after every batch rather than after every epoch.</summary>
    public bool PerBatch => _spec?.Type == "oneCycleLR";

    /// <summary>The learning rate of the next step.</summary>
    public double LearningRate
    {
        get => _optimizer.ParamGroups.First().LearningRate;
        private set
        {
            foreach (var group in _optimizer.ParamGroups)
            {
                group.LearningRate = value;
            }
        }
    }

    /// <summary>A schedule for a resolved spec, or a constant learning rate when there is none.</summary>
    public static LearningRateSchedule Create(SchedulerSpec? spec, optim.Optimizer optimizer, int epochs, int batchesPerEpoch) =>
        new(spec, optimizer, epochs, batchesPerEpoch);

    /// <summary>Call after every optimizer step.</summary>
    public void AfterBatch()
    {
        _step++;
        if (_step <= _warmupSteps)
        {
            LearningRate = _baseRate * (_warmupStart + (1 - _warmupStart) * _step / _warmupSteps);
        }
        else if (PerBatch && _step < _totalSteps)
        {
            _scheduler!.step();
        }
    }

    /// <summary>
    /// Call after every epoch, with the test split's loss and (classification) accuracy when it was evaluated
    /// (the trainer evaluates every epoch when reduceLROnPlateau watches them).
    /// </summary>
    public void AfterEpoch(int epoch, double? testLoss, double? testAccuracy)
    {
        if (_spec is null || PerBatch || epoch < _warmupEpochs)
        {
            return;
        }
        if (epoch == _warmupEpochs)
        {
            LearningRate = _baseRate;
            _scheduler = CreateScheduler(_spec);
            return;
        }
        if (_spec.Type == "reduceLROnPlateau")
        {
            _scheduler!.step(_spec.String("monitor") == SchedulerCatalog.TestAccuracy ? testAccuracy!.Value : testLoss!.Value);
        }
        else
        {
            _scheduler!.step();
        }
    }

    private LRScheduler CreateScheduler(SchedulerSpec spec) => spec.Type switch
    {
        "stepLR" => StepLR(_optimizer, spec.Int("stepSize"), spec.Double("gamma")),
        "multiStepLR" => MultiStepLR(_optimizer, spec.Ints("milestones"), spec.Double("gamma")),
        "exponentialLR" => ExponentialLR(_optimizer, spec.Double("gamma")),
        "cosineAnnealingLR" => CosineAnnealingLR(_optimizer, spec.Int("tMax"), spec.Double("etaMin")),
        "oneCycleLR" => OneCycleLR(_optimizer, spec.Double("maxLr"), total_steps: _totalSteps, pct_start: spec.Double("pctStart"),
            anneal_strategy: spec.String("annealStrategy") == "linear" ? OneCycle.AnnealStrategy.Linear : OneCycle.AnnealStrategy.Cos,
            cycle_momentum: spec.Bool("cycleMomentum"), base_momentum: spec.Double("baseMomentum"), max_momentum: spec.Double("maxMomentum"),
            div_factor: spec.Double("divFactor"), final_div_factor: spec.Double("finalDivFactor"), three_phase: spec.Bool("threePhase")),
        "reduceLROnPlateau" => ReduceLROnPlateau(_optimizer, spec.String("monitor") == SchedulerCatalog.TestAccuracy ? "max" : "min", spec.Double("factor"),
            spec.Int("patience"), spec.Double("threshold"), spec.String("thresholdMode"), spec.Int("cooldown"), [spec.Double("minLr")], spec.Double("eps")),
        _ => throw new ArgumentException($"Scheduler '{spec.Type}' is not supported.", nameof(spec)),
    };
}
