using System.Diagnostics;
using System.Globalization;
using Experiments.Domain.Runs;
using Experiments.Training.Checkpoints;
using Experiments.Training.Data;
using Experiments.Training.Evaluation;
using Experiments.Training.Layers;
using Experiments.Training.Losses;
using Experiments.Training.Optimizers;
using Experiments.Training.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Experiments.Training;

/// <summary>A dataset as read from its file: sample shape, class count (0 for regression) and the two splits.</summary>
public sealed record LoadedDataset(int[] SampleShape, DatasetArrays Train, DatasetArrays Test)
{
    public int ClassCount { get; init; }
}

/// <summary>
/// The training loop: seeded shuffled batches gathered with tensor indexing, zero_grad → forward → loss →
/// backward → (clip) → step, each batch's tensors released by a dispose scope; an evaluation of the test
/// split under no_grad in eval mode; a checkpoint after every epoch, from which an interrupted run resumes.
/// </summary>
public static class Trainer
{
    /// <summary>Epochs without a better test accuracy after which the log warns.</summary>
    public const int PatienceWarning = 5;

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
            manual_seed(plan.Seed);
            model = ModelBuilder.Build(plan.Layers, plan.Summary);
        }
        using var disposeModel = model;
        model.to(device);
        using var optimizer = OptimizerFactory.Create(plan.Optimizer, model.parameters());
        var loss = LossFactory.Create(plan.Loss);
        using var shuffle = new Generator((ulong)plan.Seed);

        var state = new CheckpointState(0, 0, null, null, 0);
        if (plan.CheckpointPath is { } checkpointPath && File.Exists(checkpointPath))
        {
            state = Checkpoint.Restore(checkpointPath, model, optimizer, shuffle);
            await observer.LogAsync(RunLogLevel.Info, $"resumed from the checkpoint of epoch {state.Epoch}", cancellationToken);
            if (plan.TargetAccuracy is { } reached && state.LastTestAccuracy >= reached)
            {
                return Finish(plan, model, loss, test, data.ClassCount, StopReason.TargetAccuracyReached, state.Epoch);
            }
        }
        else
        {
            await observer.LogAsync(RunLogLevel.Info, string.Create(CultureInfo.InvariantCulture,
                $"training on {device.type.ToString().ToLowerInvariant()}: {train.Count} training and {test.Count} test samples, "
                + $"{plan.Summary.TotalParameters} parameters, {plan.Epochs} epochs of batch size {plan.BatchSize}"), cancellationToken);
        }

        for (var epoch = state.Epoch + 1; epoch <= plan.Epochs; epoch++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var learningRate = optimizer.ParamGroups.First().LearningRate;
            var trained = TrainEpoch(plan, model, optimizer, loss, train, shuffle, epoch, state.Step, learningRate, device, observer, cancellationToken);
            double? testLoss = null, testAccuracy = null;
            if (epoch % plan.EvaluateEvery == 0 || epoch == plan.Epochs)
            {
                (testLoss, testAccuracy) = Evaluator.LossAndAccuracy(model, loss, test, plan.BatchSize);
            }
            var result = new EpochResult(epoch, trained.Loss, trained.Accuracy, testLoss, testAccuracy, learningRate, trained.GradientNorm,
                trained.Seconds, train.Count / Math.Max(trained.Seconds, 1e-9));

            var improved = testAccuracy is { } accuracy && (state.BestTestAccuracy is not { } best || accuracy > best);
            state = new CheckpointState(
                epoch,
                state.Step + trained.Batches,
                testAccuracy ?? state.LastTestAccuracy,
                improved ? testAccuracy : state.BestTestAccuracy,
                improved ? 0 : testAccuracy is null ? state.EpochsWithoutImprovement : state.EpochsWithoutImprovement + 1);

            await observer.EpochCompletedAsync(result, cancellationToken);
            if (plan.CheckpointPath is not null)
            {
                Checkpoint.Save(plan.CheckpointPath, state, model, optimizer, shuffle);
            }
            await observer.LogAsync(RunLogLevel.Info, Describe(plan, result), cancellationToken);
            if (state.EpochsWithoutImprovement > 0 && state.EpochsWithoutImprovement % PatienceWarning == 0)
            {
                await observer.LogAsync(RunLogLevel.Warning, string.Create(CultureInfo.InvariantCulture,
                    $"test accuracy has not improved for {state.EpochsWithoutImprovement} evaluations (best {state.BestTestAccuracy:P2})"), cancellationToken);
            }
            if (plan.TargetAccuracy is { } target && testAccuracy >= target)
            {
                await observer.LogAsync(RunLogLevel.Info, string.Create(CultureInfo.InvariantCulture,
                    $"test accuracy {testAccuracy:P2} reached the target {target:P2} at epoch {epoch}; stopping"), cancellationToken);
                return Finish(plan, model, loss, test, data.ClassCount, StopReason.TargetAccuracyReached, epoch);
            }
        }
        return Finish(plan, model, loss, test, data.ClassCount, StopReason.EpochsCompleted, plan.Epochs);
    }

    /// <summary>Writes the final weights and evaluates the test split in full (confusion matrix for classifiers).</summary>
    private static TrainingOutcome Finish(
        TrainingPlan plan, nn.Module<Tensor, Tensor> model, Func<Tensor, Tensor, Tensor> loss, TensorSplit test, int classCount, StopReason reason, int epochs)
    {
        if (plan.WeightsPath is { } weightsPath)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(weightsPath)!);
            model.save(weightsPath + ".partial");
            File.Move(weightsPath + ".partial", weightsPath, overwrite: true);
        }
        var evaluation = classCount > 0 ? Evaluator.Evaluate(model, loss, test, plan.BatchSize, classCount) : null;
        return new TrainingOutcome(reason, epochs, evaluation);
    }

    private readonly record struct EpochTraining(double Loss, double Accuracy, double GradientNorm, double Seconds, int Batches);

    private static EpochTraining TrainEpoch(
        TrainingPlan plan,
        nn.Module<Tensor, Tensor> model,
        optim.Optimizer optimizer,
        Func<Tensor, Tensor, Tensor> loss,
        TensorSplit train,
        Generator shuffle,
        int epoch,
        long stepBefore,
        double learningRate,
        Device device,
        IRunObserver observer,
        CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        model.train();
        var count = train.Count;
        var batches = (int)((count + plan.BatchSize - 1) / plan.BatchSize);
        var parameters = model.parameters().ToList();
        // Without a clip norm, an infinite max norm measures the gradient without changing it.
        var clipNorm = plan.GradientClipNorm ?? double.PositiveInfinity;
        using var order = (plan.Shuffle ? randperm(count, generator: shuffle) : arange(count)).to(device);
        double lossSum = 0, gradientNormSum = 0;
        long correct = 0;
        for (var batch = 1; batch <= batches; batch++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var start = (long)(batch - 1) * plan.BatchSize;
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
            var gradientNorm = nn.utils.clip_grad_norm_(parameters, clipNorm);
            if (!double.IsFinite(gradientNorm))
            {
                throw new TrainingFailedException(string.Create(CultureInfo.InvariantCulture,
                    $"gradient norm became {(double.IsNaN(gradientNorm) ? "NaN" : "infinite")} at epoch {epoch}, batch {batch} (lr {learningRate})"));
            }
            optimizer.step();

            lossSum += value * size;
            gradientNormSum += gradientNorm;
            correct += outputs.argmax(1).eq(targets).sum().item<long>();
            var logged = plan.LogEveryBatches is { } every && batch % every == 0;
            observer.BatchCompleted(epoch, batch, batches, stepBefore + batch, logged ? value : null);
        }
        return new EpochTraining(lossSum / count, (double)correct / count, gradientNormSum / batches, stopwatch.Elapsed.TotalSeconds, batches);
    }

    private static string Describe(TrainingPlan plan, EpochResult result)
    {
        var test = result.TestLoss is { } testLoss
            ? string.Create(CultureInfo.InvariantCulture, $", test loss {testLoss:F4}, test accuracy {result.TestAccuracy:P2}")
            : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"epoch {result.Epoch}/{plan.Epochs}: train loss {result.TrainLoss:F4}, train accuracy {result.TrainAccuracy:P2}{test}, "
            + $"grad norm {result.GradientNorm:G4}, lr {result.LearningRate:G4} ({result.Seconds:F2} s, {result.SamplesPerSecond:F0} samples/s)");
    }
}
