using System.Diagnostics;
using System.Globalization;
using Experiments.Domain.Runs;
using Experiments.Training.Checkpoints;
using Experiments.Training.Data;
using Experiments.Training.Diagnostics;
using Experiments.Training.Evaluation;
using Experiments.Training.Layers;
using Experiments.Training.Losses;
using Experiments.Training.Metrics;
using Experiments.Training.Optimizers;
using Experiments.Training.Runtime;
using Experiments.Training.Schedulers;
using TorchSharp;
using static TorchSharp.torch;

namespace Experiments.Training;

/// <summary>
/// The training loop: seeded shuffled batches gathered with tensor indexing, zero_grad → forward → loss →
/// backward → (clip) → step → schedule, each batch's tensors released by a dispose scope; an evaluation of the
/// test split (and of the validation split the run holds out, which then selects the best epoch, the target and the
/// plateau) under no_grad in eval mode; a checkpoint after every epoch, from which an interrupted run resumes, and the
/// best epoch's weights beside it. The metrics follow the task (accuracy for class labels; MSE, MAE and R² for regression targets).
/// </summary>
public static class Trainer
{
    /// <summary>Evaluations without a better test accuracy after which the log warns.</summary>
    public const int PatienceWarning = 5;

    /// <summary>
    /// Trains <paramref name="plan"/> on a thread of its own (<see cref="TrainingThread"/>) while the epochs are stored, checkpointed
    /// and published off it (<see cref="EpochWriter"/>); returns, or throws, once everything the run reported is written.
    /// </summary>
    public static async Task<TrainingOutcome> TrainAsync(TrainingPlan plan, LoadedDataset data, IRunObserver observer, CancellationToken cancellationToken)
    {
        using var writer = new EpochWriter(observer, plan.CheckpointPath, plan.BestWeightsPath);
        TrainingOutcome outcome;
        try
        {
            outcome = await TrainingThread.Run(plan.TorchThreads, () => Train(plan, data, writer, observer, cancellationToken));
        }
        catch
        {
            await writer.DrainAsync();
            throw;
        }
        await writer.CompleteAsync();
        return outcome;
    }

    private static TrainingOutcome Train(TrainingPlan plan, LoadedDataset data, EpochWriter writer, IRunObserver observer, CancellationToken cancellationToken)
    {
        var device = TorchRuntime.Resolve(plan.Device);
        using var train = TensorSplit.From(data.Train, data.StoredShape, data.Preprocessing, device);
        using var test = TensorSplit.From(data.Test, data.StoredShape, data.Preprocessing, device);
        using var validation = data.Validation is { } held ? TensorSplit.From(held, data.StoredShape, data.Preprocessing, device) : null;

        using var model = ModelBuilder.Build(plan.Layers, plan.Summary, plan.Seed);
        model.to(device);
        using var optimizer = OptimizerFactory.Create(plan.Optimizer, model.parameters());
        var targetKind = data.Train.Kind;
        var loss = LossFactory.Create(plan.Loss, targetKind);
        var batchesPerEpoch = (int)((train.Count + plan.BatchSize - 1) / plan.BatchSize);
        var schedule = LearningRateSchedule.Create(plan.Scheduler, optimizer, plan.Epochs, batchesPerEpoch);
        using var loader = new BatchLoader(train, plan.BatchSize, plan.Shuffle, plan.Seed);
        using var watch = new LayerWatch(model, plan.Layers, plan.Watch, plan.DetectAnomaly);

        var state = CheckpointState.Start;
        if (plan.CheckpointPath is { } checkpointPath && File.Exists(checkpointPath))
        {
            state = Resume(checkpointPath, model, optimizer, loader.ShuffleGenerator, schedule, batchesPerEpoch);
            if (state.BestEpoch == state.Epoch && plan.BestWeightsPath is { } bestPath)
            {
                // The previous worker may have stopped between this checkpoint and its copy of the best weights: the
                // checkpoint's model is the best epoch's, so the copy is made again.
                Checkpoint.WriteWhole(bestPath, temporary => model.save(temporary));
            }
            writer.Log(RunLogLevel.Info, $"resumed from the checkpoint of epoch {state.Epoch}");
            if (plan.TargetAccuracy is { } reached && state.LastTestAccuracy >= reached)
            {
                return Finish(plan, model, loss, test, data.ClassCount, targetKind, StopReason.TargetAccuracyReached, state.Epoch);
            }
        }
        else
        {
            writer.Log(RunLogLevel.Info, string.Create(CultureInfo.InvariantCulture,
                $"training on {device.type.ToString().ToLowerInvariant()}: {train.Count} training{(validation is null ? "" : $", {validation.Count} validation")} and {test.Count} test samples, "
                + $"{plan.Summary.TotalParameters} parameters, {plan.Epochs} epochs of batch size {plan.BatchSize}, "
                + $"optimizer {plan.Optimizer.Describe()}, loss {plan.Loss.Describe()}{(plan.Scheduler is null ? "" : $", scheduler {plan.Scheduler.Describe()}")}"));
        }

        for (var epoch = state.Epoch + 1; epoch <= plan.Epochs; epoch++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var learningRate = schedule.LearningRate;
            var trained = TrainEpoch(plan, model, optimizer, loss, schedule, loader, watch, targetKind, device, epoch, state.Step, observer, cancellationToken);
            var evaluate = EvaluationSchedule.Evaluates(epoch, plan.Epochs, plan.EvaluateEvery, plan.Scheduler);
            var tested = evaluate ? Evaluator.Evaluate(model, loss, test, plan.BatchSize, targetKind) : null;
            var validated = evaluate && validation is not null ? Evaluator.Evaluate(model, loss, validation, plan.BatchSize, targetKind) : null;
            var monitored = validation is null ? tested : validated;
            schedule.AfterEpoch(epoch, monitored?.Loss, monitored?.Accuracy);

            var result = new EpochMetric(epoch, trained.Metrics.Loss, trained.Metrics.Accuracy, tested?.Loss, tested?.Accuracy, learningRate,
                trained.GradientNorm, trained.Seconds, train.Count / Math.Max(trained.Seconds, 1e-9))
            {
                TestMse = tested?.Mse,
                TestMae = tested?.Mae,
                TestR2 = tested?.R2,
                ValidationLoss = validated?.Loss,
                ValidationAccuracy = validated?.Accuracy,
            };
            EnsureFinite(result, learningRate);
            var before = state;
            state = Advance(state, result, trained.Batches, targetKind);

            List<RunLogMessage> lines = [new(RunLogLevel.Info, Describe(result, plan.Epochs))];
            var split = validation is null ? "test" : "validation";
            if (state.EpochsWithoutImprovement > before.EpochsWithoutImprovement && state.EpochsWithoutImprovement % PatienceWarning == 0)
            {
                var best = targetKind == TargetKind.ClassIndex
                    ? string.Create(CultureInfo.InvariantCulture, $"{split} accuracy has not improved for {state.EpochsWithoutImprovement} evaluations (best {state.BestTestAccuracy:P2}")
                    : string.Create(CultureInfo.InvariantCulture, $"{split} loss has not improved for {state.EpochsWithoutImprovement} evaluations (best {state.BestLoss:F4}");
                lines.Add(new(RunLogLevel.Warning, $"{best} at epoch {state.BestEpoch})"));
            }
            var reached = plan.TargetAccuracy is { } target && EpochSummary.SelectionAccuracy(result) is { } accuracy && accuracy >= target;
            if (reached)
            {
                lines.Add(new(RunLogLevel.Info, string.Create(CultureInfo.InvariantCulture,
                    $"{split} accuracy {EpochSummary.SelectionAccuracy(result):P2} reached the target {plan.TargetAccuracy:P2} at epoch {epoch}; stopping")));
            }
            writer.Epoch(result, lines, snapshot => snapshot.Capture(state, model, optimizer, loader.ShuffleGenerator), bestWeights: state.BestEpoch == epoch);
            if (reached)
            {
                return Finish(plan, model, loss, test, data.ClassCount, targetKind, StopReason.TargetAccuracyReached, epoch);
            }
        }
        return Finish(plan, model, loss, test, data.ClassCount, targetKind, StopReason.EpochsCompleted, plan.Epochs);
    }

    /// <summary>
    /// Restores model, optimizer and generators, and replays the learning-rate schedule through the finished
    /// epochs so that its counters (warm-up, step sizes, plateau patience) stand where they stood.
    /// </summary>
    private static CheckpointState Resume(string path, nn.Module model, optim.Optimizer optimizer, Generator shuffle, LearningRateSchedule schedule, int batchesPerEpoch)
    {
        var saved = Checkpoint.ReadState(path)!;
        for (var epoch = 1; epoch <= saved.Epoch; epoch++)
        {
            for (var batch = 0; batch < batchesPerEpoch; batch++)
            {
                schedule.AfterBatch();
            }
            var validated = saved.ValidationLosses.Count >= epoch;
            schedule.AfterEpoch(epoch,
                validated ? saved.ValidationLosses[epoch - 1] : saved.TestLosses[epoch - 1],
                validated ? saved.ValidationAccuracies[epoch - 1] : saved.TestAccuracies[epoch - 1]);
        }
        return Checkpoint.Restore(path, model, optimizer, shuffle);
    }

    /// <summary>
    /// Where training stands after <paramref name="result"/>. The best epoch is the one with the highest selection accuracy
    /// (<see cref="EpochSummary.SelectionAccuracy"/>) for classifiers, the lowest selection loss for regression; ties keep the
    /// earlier epoch.
    /// </summary>
    private static CheckpointState Advance(CheckpointState state, EpochMetric result, int batches, TargetKind targetKind)
    {
        var validated = result.ValidationLoss is not null;
        var accuracy = EpochSummary.SelectionAccuracy(result);
        var selectionLoss = validated ? result.ValidationLoss : result.TestLoss;
        var evaluated = selectionLoss is not null;
        var improved = targetKind == TargetKind.ClassIndex
            ? accuracy is { } a && (state.BestTestAccuracy is not { } best || a > best)
            : selectionLoss is { } l && (state.BestLoss is not { } lowest || l < lowest);
        return new CheckpointState(
            result.Epoch,
            state.Step + batches,
            accuracy ?? state.LastTestAccuracy,
            improved && targetKind == TargetKind.ClassIndex ? accuracy : state.BestTestAccuracy,
            improved ? 0 : evaluated ? state.EpochsWithoutImprovement + 1 : state.EpochsWithoutImprovement,
            [.. state.TestLosses, result.TestLoss],
            [.. state.TestAccuracies, result.TestAccuracy])
        {
            ValidationLosses = validated || state.ValidationLosses.Count > 0 ? [.. state.ValidationLosses, result.ValidationLoss] : [],
            ValidationAccuracies = validated || state.ValidationAccuracies.Count > 0 ? [.. state.ValidationAccuracies, result.ValidationAccuracy] : [],
            BestEpoch = improved ? result.Epoch : state.BestEpoch,
            BestLoss = improved && targetKind != TargetKind.ClassIndex ? selectionLoss : state.BestLoss,
        };
    }

    /// <summary>Writes the final weights and evaluates the test split in full (with the confusion matrix for classifiers).</summary>
    private static TrainingOutcome Finish(
        TrainingPlan plan, nn.Module<Tensor, Tensor> model, Func<Tensor, Tensor, Tensor> loss, TensorSplit test, int classCount, TargetKind targetKind, StopReason reason, int epochs)
    {
        if (plan.WeightsPath is { } weightsPath)
        {
            Checkpoint.WriteWhole(weightsPath, temporary => model.save(temporary));
        }
        var evaluation = Evaluator.Evaluate(model, loss, test, plan.BatchSize, targetKind, classCount > 0 ? classCount : null);
        return new TrainingOutcome(reason, epochs, evaluation);
    }

    private readonly record struct EpochTraining(SplitMetrics Metrics, double GradientNorm, double Seconds, int Batches);

    /// <summary>How often the training loop reads its losses and gradient norms back from a GPU to check them.</summary>
    private static readonly TimeSpan CheckInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Without clipping, the gradient norm is measured on every this many batches (the first of each stretch): six kernels
    /// per batch cost a small model's epoch about 15 % on the CPU, and the epoch's mean over an evenly spaced eighth of
    /// its batches tells what the mean over all of them would. With clipping every batch needs its norm, and has it.
    /// </summary>
    public const int GradientNormEvery = 8;

    private static EpochTraining TrainEpoch(
        TrainingPlan plan,
        nn.Module<Tensor, Tensor> model,
        optim.Optimizer optimizer,
        Func<Tensor, Tensor, Tensor> loss,
        LearningRateSchedule schedule,
        BatchLoader loader,
        LayerWatch watch,
        TargetKind targetKind,
        Device device,
        int epoch,
        long stepBefore,
        IRunObserver observer,
        CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        model.train();
        var batches = (int)loader.BatchCount;
        var parameters = model.parameters().ToList();
        loader.StartEpoch();
        using var metrics = new MetricAccumulator(targetKind);
        // Each batch's loss and the sampled gradient norms are checked to be finite: on the CPU as they come, on a GPU a few
        // times a second (and on the batches whose loss is logged), so the loop never waits for the device at every batch.
        // A failure still names the exact batch.
        using var losses = new BatchValues(batches, device);
        using var gradientNorms = new BatchValues(batches, device);
        var learningRates = new double[batches];
        var lastCheck = Stopwatch.GetTimestamp();
        for (var batch = 1; batch <= batches; batch++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var (inputs, targets) = loader.Batch(batch - 1);

            learningRates[batch - 1] = schedule.LearningRate;
            watch.BeginBatch(stepBefore + batch);
            optimizer.zero_grad();
            var outputs = model.forward(inputs);
            var batchLoss = loss(outputs, targets);
            batchLoss.backward();
            if (plan.GradientClipNorm is not null || (batch - 1) % GradientNormEvery == 0)
            {
                gradientNorms.Add(batch, ClipGradients(parameters, plan.GradientClipNorm, device));
            }
            watch.BeforeStep(batchLoss, epoch, batch, learningRates[batch - 1]);
            optimizer.step();
            if (watch.AfterStep(epoch, batch) is { } snapshot)
            {
                observer.LayersWatched(snapshot);
            }
            schedule.AfterBatch();

            losses.Add(batch, batchLoss.detach());
            metrics.Add(outputs, targets, batchLoss);

            var logged = plan.LogEveryBatches is { } every && batch % every == 0;
            float? readLoss = null;
            if (losses.ReadAtOnce || logged || batch == 1 || batch == batches || Stopwatch.GetElapsedTime(lastCheck) >= CheckInterval)
            {
                CheckFinite(losses, "loss", learningRates, epoch);
                CheckFinite(gradientNorms, "gradient norm", learningRates, epoch);
                readLoss = losses.Last;
                lastCheck = Stopwatch.GetTimestamp();
            }
            observer.BatchCompleted(epoch, batch, batches, stepBefore + batch, readLoss, logged);
        }
        return new EpochTraining(metrics.Result(), gradientNorms.Mean(), stopwatch.Elapsed.TotalSeconds, batches);
    }

    /// <summary>
    /// The gradients' total 2-norm, as one tensor on the device; with a clip norm, the gradients scaled down to it
    /// (PyTorch's <c>clip_grad_norm_</c>, without its read of the norm back to the host).
    /// </summary>
    private static Tensor ClipGradients(IReadOnlyList<TorchSharp.Modules.Parameter> parameters, double? clipNorm, Device device)
    {
        var gradients = parameters.Select(parameter => parameter.grad).OfType<Tensor>().ToList();
        if (gradients.Count == 0)
        {
            return zeros([], ScalarType.Float32, device);
        }
        var total = stack(gradients.Select(gradient => gradient.detach().norm()).ToArray()).norm();
        if (clipNorm is { } maxNorm)
        {
            var coefficient = (maxNorm / (total + 1e-6)).clamp_max(1.0);
            foreach (var gradient in gradients)
            {
                gradient.detach().mul_(coefficient);
            }
        }
        return total;
    }

    /// <summary>
    /// Fails an epoch whose summary is not finite: weights that overflowed in the epoch's last step (whose gradient norm
    /// was not sampled) show first in the evaluation.
    /// </summary>
    private static void EnsureFinite(EpochMetric result, double learningRate)
    {
        foreach (var (name, value) in new[]
        {
            ("train loss", (double?)result.TrainLoss), ("gradient norm", result.GradientNorm), ("test loss", result.TestLoss), ("validation loss", result.ValidationLoss),
        })
        {
            if (value is { } number && !double.IsFinite(number))
            {
                throw new TrainingFailedException(string.Create(CultureInfo.InvariantCulture,
                    $"{name} became {(double.IsNaN(number) ? "NaN" : "infinite")} at epoch {result.Epoch} (lr {learningRate})"));
            }
        }
    }

    /// <summary>Reads the values recorded since the last check and fails at the first that is not finite, naming its batch.</summary>
    private static void CheckFinite(BatchValues values, string name, double[] learningRates, int epoch)
    {
        var (read, batches) = values.Read();
        for (var index = 0; index < read.Length; index++)
        {
            var value = read.Span[index];
            if (!float.IsFinite(value))
            {
                var batch = batches.Span[index];
                throw new TrainingFailedException(string.Create(CultureInfo.InvariantCulture,
                    $"{name} became {(float.IsNaN(value) ? "NaN" : "infinite")} at epoch {epoch}, batch {batch} (lr {learningRates[batch - 1]})"));
            }
        }
    }

    private static string Describe(EpochMetric result, int epochs)
    {
        var train = result.TrainAccuracy is { } trainAccuracy
            ? string.Create(CultureInfo.InvariantCulture, $"train loss {result.TrainLoss:F4}, train accuracy {trainAccuracy:P2}")
            : string.Create(CultureInfo.InvariantCulture, $"train loss {result.TrainLoss:F4}");
        var test = result.TestLoss is not { } testLoss ? ""
            : result.TestAccuracy is { } testAccuracy
                ? string.Create(CultureInfo.InvariantCulture, $", test loss {testLoss:F4}, test accuracy {testAccuracy:P2}")
                : string.Create(CultureInfo.InvariantCulture, $", test loss {testLoss:F4}, test MSE {result.TestMse:F4}, test MAE {result.TestMae:F4}, test R² {result.TestR2:F4}");
        return string.Create(CultureInfo.InvariantCulture,
            $"epoch {result.Epoch}/{epochs}: {train}{test}, grad norm {result.GradientNorm:G4}, lr {result.LearningRate:G4} ({result.Seconds:F2} s, {result.SamplesPerSecond:F0} samples/s)");
    }
}
