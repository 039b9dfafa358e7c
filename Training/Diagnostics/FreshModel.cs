using System.Diagnostics;
using Experiments.Domain.Models;
using Experiments.Domain.Runs;
using Experiments.Training.Data;
using Experiments.Training.Layers;
using Experiments.Training.Losses;
using Experiments.Training.Optimizers;
using TorchSharp;
using static TorchSharp.torch;

namespace Experiments.Training.Diagnostics;

/// <summary>What a diagnostic of a run spec starts from: the resolved spec, the model's resolved layers and shapes, the class names.</summary>
public sealed record DiagnosticInputs(RunSpec Spec, IReadOnlyList<LayerSpec> Layers, ModelSummary Summary, IReadOnlyList<string> ClassNames)
{
    public TrainingPlan Plan => TrainingPlan.For(Spec, Layers, Summary);
}

/// <summary>
/// A fresh copy of a run's model with the run's initial weights (its seed, under <see cref="ModelBuilder.SeedLock"/>), its
/// optimizer and loss, and the run's batches of the training split in the run's order, cycling through epochs.
/// </summary>
internal sealed class FreshModel : IDisposable
{
    private readonly BatchLoader _loader;
    private long _batch;

    public FreshModel(TrainingPlan plan, TensorSplit train, TargetKind targets, Device device)
    {
        Model = ModelBuilder.Build(plan.Layers, plan.Summary, plan.Seed);
        Model.to(device);
        Optimizer = OptimizerFactory.Create(plan.Optimizer, Model.parameters());
        Loss = LossFactory.Create(plan.Loss, targets);
        _loader = new BatchLoader(train, plan.BatchSize, plan.Shuffle, plan.Seed);
        _loader.StartEpoch();
        Model.train();
    }

    public nn.Module<Tensor, Tensor> Model { get; }

    public optim.Optimizer Optimizer { get; }

    public Func<Tensor, Tensor, Tensor> Loss { get; }

    public long BatchesPerEpoch => _loader.BatchCount;

    /// <summary>The next training batch, in the caller's dispose scope; after the epoch's last, the next epoch's first.</summary>
    public (Tensor Inputs, Tensor Targets) NextBatch()
    {
        if (_batch == _loader.BatchCount)
        {
            _loader.StartEpoch();
            _batch = 0;
        }
        return _loader.Batch(_batch++);
    }

    /// <summary>zero_grad → forward → loss → backward, without the step: the batch's loss, in the caller's dispose scope.</summary>
    public Tensor Backward(Tensor inputs, Tensor targets)
    {
        Optimizer.zero_grad();
        var loss = Loss(Model.forward(inputs), targets);
        loss.backward();
        return loss;
    }

    /// <summary>One training step on the batch; its loss before the update, read back (which waits for the device).</summary>
    public double Step(Tensor inputs, Tensor targets)
    {
        using var scope = NewDisposeScope();
        var loss = Backward(inputs, targets);
        Optimizer.step();
        return loss.item<float>();
    }

    public void Dispose()
    {
        _loader.Dispose();
        Optimizer.Dispose();
        Model.Dispose();
    }
}

/// <summary>The time a diagnostic may take, counted from its start.</summary>
internal sealed class Budget(TimeSpan limit)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public bool Spent => _clock.Elapsed >= limit;

    public TimeSpan Limit => limit;
}
