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

    public static async Task<TrainingOutcome> TrainAsync(TrainingPlan plan, LoadedDataset data, IRunObserver observer, CancellationToken cancellationToken)
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
            await observer.LogAsync(RunLogLevel.Info, $"resumed from the checkpoint of epoch {state.Epoch}", cancellationToken);
            if (plan.TargetAccuracy is { } reached && state.LastTestAccuracy >= reached)
            {
                return Finish(plan, model, loss, test, data.ClassCount, targetKind, StopReason.TargetAccuracyReached, state.Epoch);
            }
        }
        else
        {
            await observer.LogAsync(RunLogLevel.Info, string.Create(CultureInfo.InvariantCulture,
                $"training on {device.type.ToString().ToLowerInvariant()}: {train.Count} training{(validation is null ? "" : $", {validation.Count} validation")} and {test.Count} test samples, "
                + $"{plan.Summary.TotalParameters} parameters, {plan.Epochs} epochs of batch size {plan.BatchSize}, "
                + $"optimizer {plan.Optimizer.Describe()}, loss {plan.Loss.Describe()}{(plan.Scheduler is null ? "" : $", scheduler {plan.Scheduler.Describe()}")}"), cancellationToken);
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
            var before = state;
            state = Advance(state, result, trained.Batches, targetKind);

            await observer.EpochCompletedAsync(result, cancellationToken);
            if (plan.CheckpointPath is not null)
            {
                Checkpoint.Save(plan.CheckpointPath, state, model, optimizer, loader.ShuffleGenerator);
            }
            if (state.BestEpoch == epoch && plan.BestWeightsPath is { } bestWeightsPath)
            {
                Checkpoint.WriteWhole(bestWeightsPath, temporary => model.save(temporary));
            }
            await observer.LogAsync(RunLogLevel.Info, Describe(result, plan.Epochs), cancellationToken);
            var split = validation is null ? "test" : "validation";
            if (state.EpochsWithoutImprovement > before.EpochsWithoutImprovement && state.EpochsWithoutImprovement % PatienceWarning == 0)
            {
                var best = targetKind == TargetKind.ClassIndex
                    ? string.Create(CultureInfo.InvariantCulture, $"{split} accuracy has not improved for {state.EpochsWithoutImprovement} evaluations (best {state.BestTestAccuracy:P2}")
                    : string.Create(CultureInfo.InvariantCulture, $"{split} loss has not improved for {state.EpochsWithoutImprovement} evaluations (best {state.BestLoss:F4}");
                await observer.LogAsync(RunLogLevel.Warning, $"{best} at epoch {state.BestEpoch})", cancellationToken);
            }
            if (plan.TargetAccuracy is { } target && EpochSummary.SelectionAccuracy(result) is { } accuracy && accuracy >= target)
            {
                await observer.LogAsync(RunLogLevel.Info, string.Create(CultureInfo.InvariantCulture,
                    $"{split} accuracy {accuracy:P2} reached the target {target:P2} at epoch {epoch}; stopping"), cancellationToken);
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

    /// <summary>How often the training loop reads its losses and gradient norms back from the device to check them.</summary>
    private static readonly TimeSpan CheckInterval = TimeSpan.FromMilliseconds(250);

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
        // Each batch's loss and gradient norm stay on the device; they are read back a few times a second (and on
        // the batches whose loss is logged) to check that they are finite, so the loop never waits for the
        // device at every batch. A failure still names the exact batch.
        using var losses = empty(batches, ScalarType.Float32, device);
        using var gradientNorms = empty(batches, ScalarType.Float32, device);
        var learningRates = new double[batches];
        var checkedBatches = 0;
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
            var gradientNorm = ClipGradients(parameters, plan.GradientClipNorm, device);
            watch.BeforeStep(batchLoss, epoch, batch, learningRates[batch - 1]);
            optimizer.step();
            if (watch.AfterStep(epoch, batch) is { } snapshot)
            {
                observer.LayersWatched(snapshot);
            }
            schedule.AfterBatch();

            losses[batch - 1] = batchLoss.detach();
            gradientNorms[batch - 1] = gradientNorm;
            metrics.Add(outputs, targets, batchLoss);

            var logged = plan.LogEveryBatches is { } every && batch % every == 0;
            float? readLoss = null;
            if (logged || batch == 1 || batch == batches || Stopwatch.GetElapsedTime(lastCheck) >= CheckInterval)
            {
                readLoss = CheckFinite(losses, gradientNorms, learningRates, checkedBatches, batch, epoch);
                checkedBatches = batch;
                lastCheck = Stopwatch.GetTimestamp();
            }
            observer.BatchCompleted(epoch, batch, batches, stepBefore + batch, readLoss, logged);
        }
        using var norms = gradientNorms.to(ScalarType.Float64);
        using var meanNorm = norms.mean();
        return new EpochTraining(metrics.Result(), meanNorm.item<double>(), stopwatch.Elapsed.TotalSeconds, batches);
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
    /// Reads batches (from, to] of the epoch's losses and gradient norms, fails at the first that is not finite,
    /// and returns the loss of batch <paramref name="to"/>.
    /// </summary>
    private static float CheckFinite(Tensor losses, Tensor gradientNorms, double[] learningRates, int from, int to, int epoch)
    {
        using var lossValues = losses.narrow(0, from, to - from).cpu();
        using var normValues = gradientNorms.narrow(0, from, to - from).cpu();
        var lossesRead = lossValues.data<float>().ToArray();
        var normsRead = normValues.data<float>().ToArray();
        for (var index = 0; index < lossesRead.Length; index++)
        {
            var batch = from + index + 1;
            var learningRate = learningRates[batch - 1];
            if (!float.IsFinite(lossesRead[index]))
            {
                throw new TrainingFailedException(string.Create(CultureInfo.InvariantCulture,
                    $"loss became {(float.IsNaN(lossesRead[index]) ? "NaN" : "infinite")} at epoch {epoch}, batch {batch} (lr {learningRate})"));
            }
            if (!float.IsFinite(normsRead[index]))
            {
                throw new TrainingFailedException(string.Create(CultureInfo.InvariantCulture,
                    $"gradient norm became {(float.IsNaN(normsRead[index]) ? "NaN" : "infinite")} at epoch {epoch}, batch {batch} (lr {learningRate})"));
            }
        }
        return lossesRead[^1];
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
