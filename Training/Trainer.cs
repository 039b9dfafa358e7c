using System.Diagnostics;
using System.Globalization;
using Experiments.Domain.Runs;
using Experiments.Training.Data;
using Experiments.Training.Layers;
using Experiments.Training.Losses;
using Experiments.Training.Optimizers;
using Experiments.Training.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Experiments.Training;

/// <summary>A dataset as read from its file: sample shape and the two splits.</summary>
public sealed record LoadedDataset(int[] SampleShape, DatasetArrays Train, DatasetArrays Test);

/// <summary>
/// The training loop: seeded shuffled batches gathered with tensor indexing, zero_grad → forward → loss →
/// backward → step, each batch's tensors released by a dispose scope; after every epoch an evaluation
/// of the test split under no_grad in eval mode.
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
        var loss = LossFactory.Create(plan.Loss);
        using var shuffleGenerator = new Generator((ulong)plan.Seed);

        await observer.LogAsync(string.Create(CultureInfo.InvariantCulture,
            $"training on {device.type.ToString().ToLowerInvariant()}: {train.Count} training and {test.Count} test samples, "
            + $"{plan.Summary.TotalParameters} parameters, {plan.Epochs} epochs of batch size {plan.BatchSize}"), cancellationToken);

        for (var epoch = 1; epoch <= plan.Epochs; epoch++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var stopwatch = Stopwatch.StartNew();
            var learningRate = optimizer.ParamGroups.First().LearningRate;
            var (trainLoss, trainAccuracy) = TrainEpoch(plan, model, optimizer, loss, train, shuffleGenerator, epoch, learningRate, device, cancellationToken);
            var (testLoss, testAccuracy) = Evaluate(model, loss, test, plan.BatchSize);
            stopwatch.Stop();

            var result = new EpochResult(epoch, trainLoss, trainAccuracy, testLoss, testAccuracy, learningRate, stopwatch.Elapsed.TotalSeconds);
            await observer.EpochCompletedAsync(result, cancellationToken);
            await observer.LogAsync(string.Create(CultureInfo.InvariantCulture,
                $"epoch {epoch}/{plan.Epochs}: train loss {trainLoss:F4}, train accuracy {trainAccuracy:P2}, test loss {testLoss:F4}, test accuracy {testAccuracy:P2} ({result.Seconds:F2} s)"),
                cancellationToken);

            if (plan.TargetAccuracy is { } target && testAccuracy >= target)
            {
                await observer.LogAsync(string.Create(CultureInfo.InvariantCulture,
                    $"test accuracy {testAccuracy:P2} reached the target {target:P2} at epoch {epoch}; stopping"), cancellationToken);
                return new TrainingOutcome(StopReason.TargetAccuracyReached, epoch);
            }
        }
        return new TrainingOutcome(StopReason.EpochsCompleted, plan.Epochs);
    }

    private static (double Loss, double Accuracy) TrainEpoch(
        TrainingPlan plan,
        nn.Module<Tensor, Tensor> model,
        optim.Optimizer optimizer,
        Func<Tensor, Tensor, Tensor> loss,
        TensorSplit train,
        Generator shuffleGenerator,
        int epoch,
        double learningRate,
        Device device,
        CancellationToken cancellationToken)
    {
        model.train();
        var count = train.Count;
        using var order = (plan.Shuffle ? randperm(count, generator: shuffleGenerator) : arange(count)).to(device);
        double lossSum = 0;
        long correct = 0;
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

            lossSum += value * size;
            correct += outputs.argmax(1).eq(targets).sum().item<long>();
        }
        return (lossSum / count, (double)correct / count);
    }

    /// <summary>Mean loss and accuracy over a split, in eval mode without gradients.</summary>
    public static (double Loss, double Accuracy) Evaluate(nn.Module<Tensor, Tensor> model, Func<Tensor, Tensor, Tensor> loss, TensorSplit split, int batchSize)
    {
        if (split.Count == 0)
        {
            return (double.NaN, double.NaN);
        }
        model.eval();
        using var noGrad = no_grad();
        double lossSum = 0;
        long correct = 0;
        for (long start = 0; start < split.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var size = Math.Min(batchSize, split.Count - start);
            var inputs = split.Features.narrow(0, start, size);
            var targets = split.Labels.narrow(0, start, size);
            var outputs = model.forward(inputs);
            lossSum += loss(outputs, targets).item<float>() * size;
            correct += outputs.argmax(1).eq(targets).sum().item<long>();
        }
        return (lossSum / split.Count, (double)correct / split.Count);
    }
}
