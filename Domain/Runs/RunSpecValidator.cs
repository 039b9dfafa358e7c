using System.Globalization;
using System.Text.Json;
using Experiments.Domain.Datasets;
using Experiments.Domain.Losses;
using Experiments.Domain.Models;
using Experiments.Domain.Optimizers;
using Experiments.Domain.Schedulers;
using Experiments.Domain.Validation;

namespace Experiments.Domain.Runs;

/// <summary>Checks a run spec before any job is queued, and fills in the defaults.</summary>
public static class RunSpecValidator
{
    public const int DefaultBatchSize = 32;
    public const int MaxEpochs = 100_000;
    public const int MaxBatchSize = 1_000_000;
    public const int MaxThreads = 256;

    /// <summary>
    /// How many of <paramref name="count"/> samples a validation <paramref name="fraction"/> holds out: rounded half away from
    /// zero, overall and per class alike.
    /// </summary>
    public static int HeldOutCount(int count, double fraction) => (int)Math.Round(count * fraction, MidpointRounding.AwayFromZero);

    /// <summary>Checks the spec on its own. <paramref name="randomSeed"/> is used when no seed was sent.</summary>
    public static RunSpec? Resolve(RunSpec? spec, long randomSeed, ValidationErrors errors)
    {
        if (spec is null)
        {
            errors.Add("body", "is required: send a run spec as JSON.");
            return null;
        }
        var before = new ValidationErrors();
        if (spec.DatasetId == Guid.Empty)
        {
            before.Add("datasetId", "is required: the id of an imported dataset (GET /api/datasets).");
        }
        if (spec.ModelId == Guid.Empty)
        {
            before.Add("modelId", "is required: the id of a model version (GET /api/models).");
        }
        if (spec.Epochs is null)
        {
            before.Add("epochs", "is required: how many passes over the training split, e.g. 20.");
        }
        else if (spec.Epochs is < 1 or > MaxEpochs)
        {
            before.Add("epochs", $"must be between 1 and {MaxEpochs}; got {spec.Epochs}.");
        }
        if (spec.BatchSize is < 1 or > MaxBatchSize)
        {
            before.Add("batchSize", $"must be between 1 and {MaxBatchSize}; got {spec.BatchSize}.");
        }
        // NaN and ±Infinity arrive as "NaN"/"Infinity" (named literals are read) or as numbers too large for a double.
        if (spec.TargetAccuracy is { } target && (!double.IsFinite(target) || target <= 0 || target > 1))
        {
            before.Add("targetAccuracy", $"is a fraction of test samples classified correctly: greater than 0 and at most 1; got {Show(target)}.");
        }
        if (spec.GradientClipNorm is { } clip && (!double.IsFinite(clip) || clip <= 0))
        {
            before.Add("gradientClipNorm", $"must be a finite number greater than 0, e.g. 1.0; got {Show(clip)}. Leave it out to train without clipping.");
        }
        if (spec.EvaluateEvery is < 1)
        {
            before.Add("evaluateEvery", $"must be at least 1 (evaluate every epoch); got {spec.EvaluateEvery}.");
        }
        if (spec.LogEveryBatches is < 1)
        {
            before.Add("logEveryBatches", $"must be at least 1; got {spec.LogEveryBatches}. Leave it out to log once per epoch.");
        }
        if (spec.ValidationFraction is { } fraction && (!double.IsFinite(fraction) || fraction <= 0 || fraction >= 1))
        {
            before.Add("validationFraction", $"is the fraction of the training split held out for validation: greater than 0 and less than 1, e.g. 0.1; got {Show(fraction)}. Leave it out to select on the test split.");
        }
        if (spec.Threads is < 1 or > MaxThreads)
        {
            before.Add("threads", $"must be between 1 and {MaxThreads}; got {spec.Threads}. Leave it out to let libtorch choose.");
        }
        var watch = ResolveWatch(spec.Watch, before);
        var optimizer = OptimizerCatalog.Instance.Resolve(spec.Optimizer, "optimizer", before);
        var loss = LossCatalog.Instance.Resolve(spec.Loss, "loss", before);
        var scheduler = spec.Scheduler is null ? null : SchedulerCatalog.Instance.Resolve(spec.Scheduler, "scheduler", before);
        if (scheduler is not null && spec.Epochs is >= 1 and <= MaxEpochs)
        {
            scheduler = CheckSchedule(scheduler, optimizer, spec.Epochs.Value, before);
        }
        errors.AddRange(before);
        if (!before.IsEmpty)
        {
            return null;
        }
        return spec with
        {
            Optimizer = optimizer,
            Loss = loss,
            Scheduler = scheduler,
            BatchSize = spec.BatchSize ?? DefaultBatchSize,
            Shuffle = spec.Shuffle ?? true,
            Seed = spec.Seed ?? randomSeed,
            Device = spec.Device ?? TrainingDevice.Auto,
            EvaluateEvery = spec.EvaluateEvery ?? 1,
            Watch = watch,
        };
    }

    private static WatchSpec? ResolveWatch(WatchSpec? watch, ValidationErrors errors)
    {
        if (watch is null)
        {
            return null;
        }
        if (watch.Every is < 1)
        {
            errors.Add("watch.every", $"must be at least 1 (a snapshot every batch); got {watch.Every}. e.g. 50 records a snapshot every 50 batches.");
        }
        if (watch.Bins is < WatchSpec.MinBins or > WatchSpec.MaxBins)
        {
            errors.Add("watch.bins", $"must be between {WatchSpec.MinBins} and {WatchSpec.MaxBins}; got {watch.Bins}. Leave it out for {WatchSpec.DefaultBins}.");
        }
        return watch with { Every = watch.Every ?? WatchSpec.DefaultEvery, Bins = watch.Bins ?? WatchSpec.DefaultBins };
    }

    /// <summary>
    /// Checks what training the model at the run's batch size would cost against the host's <paramref name="limits"/>:
    /// the model's parameters against <see cref="ModelLimits.MaxParameters"/>, and the <see cref="TrainingEstimate"/>'s
    /// memory against <see cref="ModelLimits.MaxTrainingMemoryBytes"/> and the device's memory when known. Run creation
    /// calls it after <see cref="CheckFit"/>; a run once queued is never checked again, so a lowered limit does not fail it.
    /// </summary>
    public static bool CheckResources(RunSpec resolved, ModelDefinition model, ModelSummary summary, ModelLimits limits, ValidationErrors errors)
    {
        var problems = new ValidationErrors();
        var name = $"model '{model.Name}' v{model.Version}";
        if (summary.TotalParameters > limits.MaxParameters)
        {
            problems.Add("modelId", string.Create(CultureInfo.InvariantCulture,
                $"{name} has {summary.TotalParameters:N0} parameters, more than the limit of {limits.MaxParameters:N0} (setting {limits.MaxParametersSetting}); use a smaller model."));
        }
        var batchSize = resolved.BatchSize!.Value;
        var estimate = ModelValidator.Estimate(summary, batchSize, problems);
        if (estimate is not null)
        {
            var device = limits.DeviceMemoryBytes ?? long.MaxValue;
            var bound = Math.Min(limits.MaxTrainingMemoryBytes, device);
            if (estimate.TotalBytes > bound)
            {
                var over = device < limits.MaxTrainingMemoryBytes
                    ? $"more than the {Bytes(device)} of memory {limits.DeviceName} has (the limit, setting {limits.MaxTrainingMemorySetting}, is {Bytes(limits.MaxTrainingMemoryBytes)})"
                    : $"more than the limit of {Bytes(limits.MaxTrainingMemoryBytes)} (setting {limits.MaxTrainingMemorySetting})";
                var perSample = estimate.ActivationBytes / batchSize;
                var fitting = perSample == 0 ? 0 : (bound - estimate.ParameterBytes) / perSample;
                var fix = fitting >= 1
                    ? $"use a batch size of at most {Math.Min(fitting, batchSize - 1)}, or a smaller model."
                    : "its weights, gradients and optimizer state alone do not fit; use a smaller model.";
                problems.Add(fitting >= 1 ? "batchSize" : "modelId",
                    $"training {name} at batch size {batchSize} needs an estimated {Bytes(estimate.TotalBytes)} (weights, gradients and Adam's two moments: "
                    + $"{Bytes(estimate.ParameterBytes)}; activations and their gradients for one batch: {Bytes(estimate.ActivationBytes)}), {over}; {fix}");
            }
        }
        errors.AddRange(problems);
        return problems.IsEmpty;
    }

    /// <summary>"1,234,567,890 bytes (1.1 GiB)".</summary>
    private static string Bytes(long bytes) =>
        string.Create(CultureInfo.InvariantCulture, $"{bytes:N0} bytes ({bytes / (double)(1L << 30):0.#} GiB)");

    private static string Show(double value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Checks that the model fits the dataset, that the loss fits the dataset's task and the model's output,
    /// and what else only the data can tell; returns the model's shapes.
    /// </summary>
    public static ModelSummary? CheckFit(RunSpec resolved, Dataset dataset, ModelDefinition model, ValidationErrors errors)
    {
        var layerErrors = new ValidationErrors();
        var layers = ModelValidator.Resolve(model.Layers, layerErrors);
        var summary = layers is null ? null : ModelValidator.InferShapes(layers, dataset.SampleShape, layerErrors);
        if (layers is null || summary is null)
        {
            errors.Add("modelId", $"model '{model.Name}' v{model.Version} does not fit dataset '{dataset.Name}' "
                + $"(samples of shape {ModelValidator.Format(dataset.SampleShape)}): {layerErrors}");
            return null;
        }
        var fit = new Fit(resolved, dataset, model, layers, summary);
        var problems = new ValidationErrors();
        if (dataset.Task == DatasetTask.Regression)
        {
            fit.CheckRegression(problems);
        }
        else
        {
            fit.CheckClassification(problems);
        }
        fit.CheckValidationSplit(problems);
        fit.CheckTrainable(problems);
        fit.CheckEmbedding(problems);
        fit.CheckBatchNorm(problems);
        fit.CheckPlateauMetric(problems);
        fit.CheckWatch(problems);
        errors.AddRange(problems);
        return problems.IsEmpty ? summary : null;
    }

    private static SchedulerSpec? CheckSchedule(SchedulerSpec scheduler, OptimizerSpec? optimizer, int epochs, ValidationErrors errors)
    {
        var warmup = scheduler.Has("warmupEpochs") ? scheduler.Int("warmupEpochs") : 0;
        if (warmup >= epochs)
        {
            errors.Add("scheduler.warmupEpochs", $"must be less than epochs ({epochs}), so that the schedule itself gets epochs; got {warmup}.");
            return null;
        }
        if (scheduler.Type == "oneCycleLR" && scheduler.Bool("cycleMomentum") && optimizer?.Type == "adagrad")
        {
            errors.Add("scheduler.cycleMomentum", "adagrad has no momentum to cycle; set cycleMomentum to false, or choose sgd, rmsprop, adam or adamW.");
            return null;
        }
        if (scheduler.Type == "cosineAnnealingLR" && !scheduler.Has("tMax"))
        {
            return scheduler with
            {
                Parameters = new Dictionary<string, JsonElement>(scheduler.Parameters) { ["tMax"] = JsonSerializer.SerializeToElement(epochs - warmup) },
            };
        }
        return scheduler;
    }

    /// <summary>The checks that need the dataset and the model's shapes together.</summary>
    private sealed class Fit(RunSpec spec, Dataset dataset, ModelDefinition model, IReadOnlyList<LayerSpec> layers, ModelSummary summary)
    {
        private LossSpec Loss => spec.Loss!;

        private string Model => $"model '{model.Name}' v{model.Version}";

        private string Data => $"dataset '{dataset.Name}'";

        private int Last => summary.Layers.Count - 1;

        private string LastType => summary.Layers[Last].Type;

        private int[] Output => summary.OutputShape;

        public void CheckRegression(ValidationErrors problems)
        {
            var size = dataset.TargetSize;
            var values = size == 1 ? "one target value" : $"{size} target values";
            if (!LossCatalog.ValueLosses.Contains(Loss.Type))
            {
                problems.Add("loss.type", $"{Loss.Type} needs class labels, but {Data} has regression targets ({values} per sample); use mse, l1, smoothL1 or huber.");
                return;
            }
            if (Loss.Bool("oneHot"))
            {
                problems.Add("loss.oneHot", $"compares the outputs with one-hot class labels, but {Data} has regression targets; leave it out.");
            }
            if (!Output.SequenceEqual([size]))
            {
                problems.Add("modelId", $"{Data} has {values} per sample, but {Model} outputs {ModelValidator.Format(Output)} per sample. "
                    + $"End the model with a linear layer of outFeatures {size} ({EndsWith()}).");
            }
            if (spec.TargetAccuracy is not null)
            {
                problems.Add("targetAccuracy", $"applies to classification, and {Data} has regression targets; leave it out (the run trains for its epochs).");
            }
        }

        public void CheckClassification(ValidationErrors problems)
        {
            var classes = dataset.ClassCount;
            switch (Loss.Type)
            {
                case var type when LossCatalog.ClassIndexLosses.Contains(type):
                    RequireOnePerClass(problems);
                    CheckLength(problems, "weight", classes, "one per class");
                    if (Loss.Type == "crossEntropy" && LastType == "softmax")
                    {
                        problems.Add("modelId", $"crossEntropy applies log-softmax to the model's outputs itself, and {Model} ends with a softmax (layers[{Last}]), "
                            + "so the outputs would be squashed twice and learning stalls. Remove the softmax, or end with logSoftmax and use nll.");
                    }
                    if (Loss.Type == "nll" && LastType != "logSoftmax")
                    {
                        problems.Add("loss.type", $"nll takes log-probabilities, but {Model} ends with {LastType} (layers[{Last}]). "
                            + "End the model with {\"type\": \"logSoftmax\"}, or use crossEntropy, which applies log-softmax itself.");
                    }
                    break;
                case "bceWithLogits":
                    var width = Output.Length == 1 ? Output[0] : -1;
                    if (!(width == classes || (width == 1 && classes == 2)))
                    {
                        problems.Add("modelId", $"bceWithLogits needs {(classes == 2 ? "one logit ([1]) for the two classes, or one per class ([2])" : $"one logit per class ([{classes}]) to compare with one-hot labels")}: "
                            + $"{Data} has {classes} classes, but {Model} outputs {ModelValidator.Format(Output)} per sample. "
                            + $"End the model with a linear layer of outFeatures {(classes == 2 ? 1 : classes)} ({EndsWith()}).");
                    }
                    else
                    {
                        CheckLength(problems, "posWeight", width, "one per output");
                    }
                    if (LastType == "sigmoid")
                    {
                        problems.Add("modelId", $"bceWithLogits applies the sigmoid itself, and {Model} ends with a sigmoid (layers[{Last}]); remove it.");
                    }
                    break;
                default:
                    if (!Loss.Bool("oneHot"))
                    {
                        problems.Add("loss.type", $"{Loss.Type} compares numbers, but {Data} has class labels ({classes} classes). "
                            + $"Use crossEntropy, or set \"oneHot\": true to compare the outputs with one-hot labels (the model then outputs {classes} values).");
                        return;
                    }
                    RequireOnePerClass(problems);
                    break;
            }
        }

        /// <summary>An embedding looks up the features: they must be indices below numEmbeddings.</summary>
        public void CheckEmbedding(ValidationErrors problems)
        {
            if (layers[0].Type != "embedding")
            {
                return;
            }
            var vocabulary = layers[0].Int("numEmbeddings");
            var (min, max) = (dataset.Statistics.Min, dataset.Statistics.Max);
            if (min < 0 || max >= vocabulary)
            {
                var fix = min < 0 ? "An embedding needs non-negative whole-number features." : $"Set numEmbeddings to at least {(long)Math.Floor(max) + 1}.";
                problems.Add("modelId", string.Create(CultureInfo.InvariantCulture,
                    $"layers[0] (embedding) looks up token indices 0 to {vocabulary - 1}, but the features of {Data} run from {min} to {max}. {fix}"));
            }
        }

        /// <summary>A model without weights has nothing to learn (and nothing for the optimizer or backward to act on).</summary>
        public void CheckTrainable(ValidationErrors problems)
        {
            if (summary.TotalParameters == 0)
            {
                problems.Add("modelId", $"model '{model.Name}' v{model.Version} has no trainable parameters "
                    + $"(its layers: {string.Join(", ", layers.Select(layer => layer.Type))}), so training would change nothing; "
                    + "add a layer with weights, such as linear or conv2d.");
            }
        }

        /// <summary>Batch norm needs more than one value per channel while training, as PyTorch insists.</summary>
        public void CheckBatchNorm(ValidationErrors problems)
        {
            var layer = SingleValueBatchNorm(layers, summary.Layers, summary.InputShape, "layers");
            if (layer is null)
            {
                return;
            }
            var batchSize = spec.BatchSize!.Value;
            var trainCount = TrainingCount;
            if (batchSize == 1 || trainCount % batchSize == 1)
            {
                var suggestion = Enumerable.Range(1, 64)
                    .SelectMany(distance => new[] { batchSize + distance, batchSize - distance })
                    .FirstOrDefault(size => size >= 2 && size <= trainCount && trainCount % size != 1);
                problems.Add("batchSize", $"{(batchSize == 1 ? "is 1" : $"leaves a last batch of one sample ({trainCount} training samples)")}, "
                    + $"and {layer} needs more than one value per channel while training; "
                    + (suggestion == 0 ? "the training split is too small for batch norm." : $"choose another batch size, e.g. {suggestion}."));
            }
        }

        /// <summary>The training samples left once the validation split is held out (per-class rounding can move it by a few).</summary>
        private int TrainingCount => spec.ValidationFraction is { } fraction ? dataset.TrainCount - HeldOutCount(dataset.TrainCount, fraction) : dataset.TrainCount;

        public void CheckValidationSplit(ValidationErrors problems)
        {
            if (spec.ValidationFraction is not { } fraction)
            {
                return;
            }
            var heldOut = HeldOutCount(dataset.TrainCount, fraction);
            if (heldOut < 1 || heldOut >= dataset.TrainCount)
            {
                problems.Add("validationFraction", string.Create(CultureInfo.InvariantCulture,
                    $"holds out {heldOut} of the {dataset.TrainCount} training samples of {Data}, which leaves {(heldOut < 1 ? "no validation samples" : "nothing to train on")}; ")
                    + (dataset.TrainCount < 2 ? "the training split is too small to hold any out; leave validationFraction out." : $"choose a fraction between {1.0 / dataset.TrainCount:G3} and {(dataset.TrainCount - 1.0) / dataset.TrainCount:G3}, e.g. 0.1."));
            }
        }

        /// <summary>
        /// The run's snapshots must fit <see cref="WatchSpec.MaxValues"/>. Batches are counted on the whole training split, before any
        /// validation hold-out: never fewer than the run trains.
        /// </summary>
        public void CheckWatch(ValidationErrors problems)
        {
            if (spec.Watch is not { Every: { } every, Bins: { } bins })
            {
                return;
            }
            var batchSize = spec.BatchSize!.Value;
            var steps = checked(spec.Epochs!.Value * (((long)dataset.TrainCount + batchSize - 1) / batchSize));
            var perSnapshot = WatchSpec.ValuesPerSnapshot(layers, bins);
            var snapshots = steps / every;
            if (snapshots == 0 || snapshots <= WatchSpec.MaxValues / perSnapshot)
            {
                return;
            }
            var fitting = WatchSpec.MaxValues / perSnapshot;
            var smallest = fitting == 0 ? 0 : steps / (fitting + 1) + 1;
            problems.Add("watch.every", string.Create(CultureInfo.InvariantCulture,
                $"records {snapshots:N0} snapshots ({steps:N0} steps, every {every}) of {WatchSpec.ParameterTensors(layers)} parameter tensors and {WatchSpec.Layers(layers)} layers "
                + $"at {bins} bins: {checked(snapshots * perSnapshot):N0} numbers, more than the limit of {WatchSpec.MaxValues:N0} per run; ")
                + (fitting == 0
                    ? string.Create(CultureInfo.InvariantCulture, $"one snapshot of {Model} alone holds {perSnapshot:N0} numbers; use fewer bins (watch.bins), or leave watch out.")
                    : string.Create(CultureInfo.InvariantCulture, $"use an every of at least {smallest}, or fewer bins or epochs.")));
        }

        public void CheckPlateauMetric(ValidationErrors problems)
        {
            if (spec.Scheduler?.Type != "reduceLROnPlateau")
            {
                return;
            }
            if (dataset.TestCount == 0 && spec.ValidationFraction is null)
            {
                problems.Add("scheduler.monitor", $"watches the test split, and {Data} has no test samples; hold a validation split out (validationFraction), choose another scheduler or import the data with a test split.");
            }
            else if (dataset.Task == DatasetTask.Regression && spec.Scheduler.String("monitor") == SchedulerCatalog.TestAccuracy)
            {
                problems.Add("scheduler.monitor", $"testAccuracy exists for classification only, and {Data} has regression targets; use testLoss.");
            }
        }

        private void RequireOnePerClass(ValidationErrors problems)
        {
            var classes = dataset.ClassCount;
            if (!Output.SequenceEqual([classes]))
            {
                problems.Add("modelId", $"{Loss.Type} needs one output per class: {Data} has {classes} classes, "
                    + $"but {Model} outputs {ModelValidator.Format(Output)} per sample. End the model with a linear layer of outFeatures {classes} ({EndsWith()}).");
            }
        }

        private void CheckLength(ValidationErrors problems, string parameter, int expected, string what)
        {
            if (Loss.Has(parameter) && Loss.Doubles(parameter).Length != expected)
            {
                problems.Add($"loss.{parameter}", $"needs {expected} numbers ({what}); got {Loss.Doubles(parameter).Length}.");
            }
        }

        private string EndsWith() => $"layers[{Last}] is {LastType}";

        /// <summary>The path of the first batch norm that sees one value per channel per sample, or null.</summary>
        private static string? SingleValueBatchNorm(IReadOnlyList<LayerSpec> specs, IReadOnlyList<LayerSummary> shapes, int[] input, string path)
        {
            for (var index = 0; index < specs.Count; index++)
            {
                if (specs[index].Type is "batchNorm1d" or "batchNorm2d" && ModelValidator.Elements(input) == input[0])
                {
                    return $"{path}[{index}] ({specs[index].Type})";
                }
                if (specs[index].Type == "residual"
                    && SingleValueBatchNorm(ModelValidator.SubLayers(specs[index]), shapes[index].Layers!, input, $"{path}[{index}].layers") is { } inner)
                {
                    return inner;
                }
                input = shapes[index].OutputShape;
            }
            return null;
        }
    }
}
