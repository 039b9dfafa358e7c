using System.Diagnostics;
using System.Globalization;
using Experiments.Domain.Runs;
using Experiments.Training.Data;
using Experiments.Training.Layers;
using Experiments.Training.Losses;
using Experiments.Training.Metrics;
using Experiments.Training.Optimizers;
using Experiments.Training.Runtime;
using Experiments.Training.Schedulers;
using TorchSharp;
using static TorchSharp.torch;

namespace Experiments.Training;

/// <summary>A dataset as read from its file: sample shape and the two splits.</summary>
public sealed record LoadedDataset(int[] SampleShape, DatasetArrays Train, DatasetArrays Test);

/// <summary>
/// The training loop: seeded shuffled batches gathered with tensor indexing, zero_grad → forward → loss →
/// backward → step, each batch's tensors released by a dispose scope; after every epoch an evaluation
/// of the test split under no_grad in eval mode. The learning-rate schedule is told of every batch and epoch;
/// the metrics follow the task (accuracy for class labels; MSE, MAE and R² for regression targets).
/// </summary>
public static class Trainer
{
    // torch.manual_seed is process-wide: hold it while a model's weights are initialised so that two
    // runs starting together each get the initial weights of their own seed.
    private static readonly Lock SeedLock = new();

    public static async Task<TrainingOutcome> TrainAsync(TrainingPlan plan, LoadedDataset data, IRunObserver observer, CancellationToken cancellationToken)
    {
        var device = TorchRuntime.Resolve(plan.Device);
        using var train = TensorSplit.From(data.Train, data.SampleShape, device);
        using var test = TensorSplit.From(data.Test, data.SampleShape, device);

        nn.Module<Tensor, Tensor> model;
        lock (SeedLock)
        {
            torch.manual_seed(plan.Seed);
            model = ModelBuilder.Build(plan.Layers, plan.Summary);
        }
        using var disposeModel = model;
        model.to(device);
        using var optimizer = OptimizerFactory.Create(plan.Optimizer, model.parameters());
        var targets = data.Train.Kind;
        var loss = LossFactory.Create(plan.Loss, targets);
        var batchesPerEpoch = (int)((train.Count + plan.BatchSize - 1) / plan.BatchSize);
        var schedule = LearningRateSchedule.Create(plan.Scheduler, optimizer, plan.Epochs, batchesPerEpoch);
        using var shuffleGenerator = new Generator((ulong)plan.Seed);

        await observer.LogAsync(string.Create(CultureInfo.InvariantCulture,
            $"training on {device.type.ToString().ToLowerInvariant()}: {train.Count} training and {test.Count} test samples, "
            + $"{plan.Summary.TotalParameters} parameters, {plan.Epochs} epochs of batch size {plan.BatchSize}, "
            + $"optimizer {plan.Optimizer}, loss {plan.Loss}{(plan.Scheduler is null ? "" : $", scheduler {plan.Scheduler}")}"), cancellationToken);

        for (var epoch = 1; epoch <= plan.Epochs; epoch++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var stopwatch = Stopwatch.StartNew();
            var learningRate = schedule.LearningRate;
            var trained = TrainEpoch(plan, model, optimizer, loss, schedule, train, targets, shuffleGenerator, epoch, device, cancellationToken);
            var tested = Evaluate(model, loss, test, plan.BatchSize, targets);
            schedule.AfterEpoch(epoch, tested.Loss, tested.Accuracy);
            stopwatch.Stop();

            var result = new EpochResult(epoch, trained.Loss, trained.Accuracy, tested.Loss, tested.Accuracy, learningRate, stopwatch.Elapsed.TotalSeconds)
            {
                TestMse = tested.Mse,
                TestMae = tested.Mae,
                TestR2 = tested.R2,
            };
            await observer.EpochCompletedAsync(result, cancellationToken);
            await observer.LogAsync(Describe(result, plan.Epochs), cancellationToken);

            if (plan.TargetAccuracy is { } target && tested.Accuracy is { } testAccuracy && testAccuracy >= target)
            {
                await observer.LogAsync(string.Create(CultureInfo.InvariantCulture,
                    $"test accuracy {testAccuracy:P2} reached the target {target:P2} at epoch {epoch}; stopping"), cancellationToken);
                return new TrainingOutcome(StopReason.TargetAccuracyReached, epoch);
            }
        }
        return new TrainingOutcome(StopReason.EpochsCompleted, plan.Epochs);
    }

    private static SplitMetrics TrainEpoch(
        TrainingPlan plan,
        nn.Module<Tensor, Tensor> model,
        optim.Optimizer optimizer,
        Func<Tensor, Tensor, Tensor> loss,
        LearningRateSchedule schedule,
        TensorSplit train,
        TargetKind targetKind,
        Generator shuffleGenerator,
        int epoch,
        Device device,
        CancellationToken cancellationToken)
    {
        model.train();
        var count = train.Count;
        using var order = (plan.Shuffle ? randperm(count, generator: shuffleGenerator) : arange(count)).to(device);
        var metrics = new MetricAccumulator(targetKind);
        var batch = 0;
        for (long start = 0; start < count; start += plan.BatchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            batch++;
            using var scope = NewDisposeScope();
            var size = Math.Min(plan.BatchSize, count - start);
            var indices = order.narrow(0, start, size);
            var inputs = train.Features.index_select(0, indices);
            var targets = train.Labels.index_select(0, indices);

            var learningRate = schedule.LearningRate;
            optimizer.zero_grad();
            var outputs = model.forward(inputs);
            var batchLoss = loss(outputs, targets);
            var value = batchLoss.item<float>();
            if (!float.IsFinite(value))
            {
                throw new TrainingFailedException(string.Create(CultureInfo.InvariantCulture,
                    $"loss became {(float.IsNaN(value) ? "NaN" : "infinite")} at epoch {epoch}, batch {batch} (lr {learningRate})"));
            }
            batchLoss.backward();
            optimizer.step();
            schedule.AfterBatch();

            metrics.Add(outputs, targets, value);
        }
        return metrics.Result();
    }

    /// <summary>Mean loss and the task's metrics over a split, in eval mode without gradients.</summary>
    public static SplitMetrics Evaluate(nn.Module<Tensor, Tensor> model, Func<Tensor, Tensor, Tensor> loss, TensorSplit split, int batchSize, TargetKind targetKind)
    {
        var metrics = new MetricAccumulator(targetKind);
        model.eval();
        using var noGrad = no_grad();
        for (long start = 0; start < split.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var size = Math.Min(batchSize, split.Count - start);
            var inputs = split.Features.narrow(0, start, size);
            var targets = split.Labels.narrow(0, start, size);
            var outputs = model.forward(inputs);
            metrics.Add(outputs, targets, loss(outputs, targets).item<float>());
        }
        return metrics.Result();
    }

    private static string Describe(EpochResult result, int epochs) => result.TestAccuracy is null && result.TrainAccuracy is null
        ? string.Create(CultureInfo.InvariantCulture,
            $"epoch {result.Epoch}/{epochs}: train loss {result.TrainLoss:F4}, test loss {result.TestLoss:F4}, test MSE {result.TestMse:F4}, test MAE {result.TestMae:F4}, test R² {result.TestR2:F4} (lr {result.LearningRate:G4}, {result.Seconds:F2} s)")
        : string.Create(CultureInfo.InvariantCulture,
            $"epoch {result.Epoch}/{epochs}: train loss {result.TrainLoss:F4}, train accuracy {result.TrainAccuracy:P2}, test loss {result.TestLoss:F4}, test accuracy {result.TestAccuracy:P2} (lr {result.LearningRate:G4}, {result.Seconds:F2} s)");
}
