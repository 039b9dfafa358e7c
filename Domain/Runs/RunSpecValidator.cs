using Experiments.Domain.Datasets;
using Experiments.Domain.Losses;
using Experiments.Domain.Models;
using Experiments.Domain.Optimizers;
using Experiments.Domain.Validation;

namespace Experiments.Domain.Runs;

/// <summary>Checks a run spec before any job is queued, and fills in the defaults.</summary>
public static class RunSpecValidator
{
    public const int DefaultBatchSize = 32;
    public const int MaxEpochs = 100_000;
    public const int MaxThreads = 256;

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
        if (spec.BatchSize is < 1 or > 1_000_000)
        {
            before.Add("batchSize", $"must be between 1 and 1000000; got {spec.BatchSize}.");
        }
        if (spec.TargetAccuracy is { } target && (double.IsNaN(target) || target <= 0 || target > 1))
        {
            before.Add("targetAccuracy", $"is a fraction of test samples classified correctly: greater than 0 and at most 1; got {target}.");
        }
        if (spec.GradientClipNorm is { } clip && (double.IsNaN(clip) || clip <= 0))
        {
            before.Add("gradientClipNorm", $"must be greater than 0, e.g. 1.0; got {clip}. Leave it out to train without clipping.");
        }
        if (spec.EvaluateEvery is < 1)
        {
            before.Add("evaluateEvery", $"must be at least 1 (evaluate every epoch); got {spec.EvaluateEvery}.");
        }
        if (spec.LogEveryBatches is < 1)
        {
            before.Add("logEveryBatches", $"must be at least 1; got {spec.LogEveryBatches}. Leave it out to log once per epoch.");
        }
        if (spec.Threads is < 1 or > MaxThreads)
        {
            before.Add("threads", $"must be between 1 and {MaxThreads}; got {spec.Threads}. Leave it out to let libtorch choose.");
        }
        var optimizer = OptimizerCatalog.Instance.Resolve(spec.Optimizer, "optimizer", before);
        var loss = LossCatalog.Instance.Resolve(spec.Loss, "loss", before);
        errors.AddRange(before);
        if (!before.IsEmpty)
        {
            return null;
        }
        return spec with
        {
            Optimizer = optimizer,
            Loss = loss,
            BatchSize = spec.BatchSize ?? DefaultBatchSize,
            Shuffle = spec.Shuffle ?? true,
            Seed = spec.Seed ?? randomSeed,
            Device = spec.Device ?? TrainingDevice.Auto,
            EvaluateEvery = spec.EvaluateEvery ?? 1,
        };
    }

    /// <summary>Checks that the model fits the dataset and the loss fits both; returns the model's shapes.</summary>
    public static ModelSummary? CheckFit(RunSpec resolved, Dataset dataset, ModelDefinition model, ValidationErrors errors)
    {
        var layerErrors = new ValidationErrors();
        var layers = ModelValidator.Resolve(model.Layers, layerErrors);
        var summary = layers is null ? null : ModelValidator.InferShapes(layers, dataset.SampleShape, layerErrors);
        if (summary is null)
        {
            errors.Add("modelId", $"model '{model.Name}' v{model.Version} does not fit dataset '{dataset.Name}' "
                + $"(samples of shape {ModelValidator.Format(dataset.SampleShape)}): {layerErrors}");
            return null;
        }
        if (resolved.Loss!.Type == "crossEntropy")
        {
            var output = summary.OutputShape;
            if (output.Length != 1 || output[0] != dataset.ClassCount)
            {
                var last = summary.Layers.Count - 1;
                errors.Add("modelId", $"crossEntropy needs one output per class: dataset '{dataset.Name}' has {dataset.ClassCount} classes, "
                    + $"but model '{model.Name}' v{model.Version} outputs {ModelValidator.Format(output)} per sample. "
                    + $"End the model with a linear layer of outFeatures {dataset.ClassCount} (layers[{last}] is {summary.Layers[last].Type}).");
                return null;
            }
        }
        return summary;
    }
}
