using System.Text.Json;
using Experiments.Api.Hosting;
using Experiments.Api.Persistence;
using Experiments.Domain.Datasets;
using Experiments.Domain.Models;
using Experiments.Domain.Runs;
using Experiments.Training;
using Experiments.Training.Data;
using Experiments.Training.Export;
using Experiments.Training.Export.Onnx;
using Experiments.Training.Inference;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Experiments.Api.Runs;

/// <summary>What can be done with a run's trained model: evaluate it on other data, predict, export its weights.</summary>
public static class TrainedModelApi
{
    public const int MaxPredictSamples = 10_000;

    /// <summary>
    /// The values of the weights download's <c>format</c>, as the OpenAPI document lists them: every name
    /// <see cref="Weights"/> accepts (it reads them in any case). A format added there is added here.
    /// </summary>
    public static IReadOnlyList<string> WeightsFormats { get; } = ["torchsharp", "pytorch", "pt", "safetensors", "onnx", "card"];

    /// <summary>The values of <c>which</c> on evaluate, predict and weights: the last weights (default) or the best epoch's.</summary>
    public static IReadOnlyList<string> WeightsChoices { get; } = ["last", "best"];

    internal const string WhichDescription = " `which` is last (default: the final weights, or the last checkpoint's while the run trains) or best (the weights of "
        + "the best epoch, chosen on validation when the run holds a validation split out, else on test).";

    public static RouteGroupBuilder MapTrainedModel(this RouteGroupBuilder group)
    {
        group.MapPost("/{id:guid}/evaluate", Evaluate)
            .WithName("evaluateRun")
            .DescribesQuery("which", WeightsChoices, defaultValue: WeightsChoices[0])
            .WithSummary("Evaluate the trained model on a dataset of the same sample shape and classes")
            .WithDescription("`split` is test (default), train, all, or validation (the samples the run held out of its own dataset's training split). "
                + "Answers loss, accuracy, the confusion matrix and per-class precision, recall and F1." + WhichDescription);
        group.MapPost("/{id:guid}/predict", Predict)
            .WithName("predictWithRun")
            .DescribesQuery("which", WeightsChoices, defaultValue: WeightsChoices[0])
            .WithSummary("Predict for raw samples")
            .WithDescription("Each sample is a list of numbers (nested or flat) with as many values as one sample of the run's dataset. "
                + "Answers, per sample, the predicted class, its name and the probability of every class; for a regression dataset, the predicted values." + WhichDescription);
        group.MapGet("/{id:guid}/weights", Weights)
            .WithName("downloadRunWeights")
            .DescribesQuery("format", WeightsFormats, defaultValue: WeightsFormats[0])
            .DescribesQuery("which", WeightsChoices, defaultValue: WeightsChoices[0])
            .Produces<Stream>(StatusCodes.Status200OK, "application/octet-stream", "text/markdown")
            .WithSummary("Download the trained weights, an ONNX graph or a model card")
            .WithDescription("`format` is torchsharp (default, for module.load in .NET); pytorch (a .pt state dict written as torch.save writes it: "
                + "model.load_state_dict(torch.load(path, mmap=True, weights_only=True)) on the equivalent nn.Sequential); safetensors (its "
                + "`__metadata__` holds the class names, the layer spec and the dataset's preprocessing); onnx (opset "
                + $"{OnnxExport.Opset}, the preprocessing folded in: input `{OnnxExport.InputName}` takes raw float32 samples as the dataset stores them, "
                + $"output `{OnnxExport.ProbabilitiesName}` (classification) or `{OnnxExport.PredictionsName}` (regression)); or card (a Markdown model card: "
                + "input, preprocessing with its fitted mean and std, output classes, layers, state-dict keys, training). The weights files do not "
                + "include the preprocessing: apply it first (see the card). A run that did not finish serves its last checkpoint's weights." + WhichDescription);
        return group;
    }

    public static async Task<Results<Ok<RunEvaluation>, ValidationProblem, NotFound<ProblemDetails>, Conflict<ProblemDetails>>> Evaluate(
        Guid id, EvaluateRequest? request, string? which, ExperimentsDbContext db, IArtifactStore artifacts, CancellationToken cancellationToken)
    {
        if (ParseWhich(which) is not { } choice)
        {
            return InvalidWhich(which);
        }
        var context = await db.RunInputsAsync(id, cancellationToken);
        if (context is null)
        {
            return Problems.NotFound("run", id);
        }
        var dataset = request is null ? null : await db.Datasets.AsNoTracking().FirstOrDefaultAsync(d => d.Id == request.DatasetId, cancellationToken);
        if (dataset is null)
        {
            return Invalid("datasetId", request is null
                ? "is required: the id of a dataset to evaluate on, e.g. the run's own dataset."
                : $"no dataset has id {request.DatasetId}; list them with GET /api/datasets.");
        }
        if (!dataset.SampleShape.SequenceEqual(context.Dataset.SampleShape) || dataset.ClassCount != context.Dataset.ClassCount)
        {
            return Invalid("datasetId", $"dataset '{dataset.Name}' has samples of shape {ModelValidator.Format(dataset.SampleShape)} and {dataset.ClassCount} classes; "
                + $"the run was trained on {ModelValidator.Format(context.Dataset.SampleShape)} with {context.Dataset.ClassCount} classes.");
        }
        var split = request!.Split ?? EvaluationSplit.Test;
        var heldOut = context.Run.Spec.ValidationFraction;
        if (split == EvaluationSplit.Validation && (heldOut is null || dataset.Id != context.Dataset.Id))
        {
            return Invalid("split", heldOut is null
                ? $"run {id} holds no validation split out (its spec has no validationFraction); use test, train or all."
                : $"validation is the part of the run's own dataset ({context.Dataset.Id}) that it held out; evaluate on that dataset, or use test, train or all.");
        }
        using var model = LoadModel(context, artifacts, choice);
        if (model is null)
        {
            return NoWeights(id, choice);
        }
        var data = LoadedDataset.Read(dataset, artifacts.TensorFilePath(dataset));
        var samples = split switch
        {
            EvaluationSplit.Train => data.Train,
            EvaluationSplit.Test => data.Test,
            EvaluationSplit.Validation => ValidationSplit.Apply(data.Train, heldOut!.Value, context.Run.Spec.Seed!.Value).Validation,
            _ => data.Train.Concat(data.Test),
        };
        var result = model.Evaluate(data, samples, context.Run.Spec.Loss!);
        return TypedResults.Ok(RunEvaluationViews.From(split.ToString().ToLowerInvariant(), result, dataset));
    }

    public static async Task<Results<Ok<PredictResponse>, ValidationProblem, NotFound<ProblemDetails>, Conflict<ProblemDetails>>> Predict(
        Guid id, PredictRequest? request, string? which, ExperimentsDbContext db, IArtifactStore artifacts, CancellationToken cancellationToken)
    {
        if (ParseWhich(which) is not { } choice)
        {
            return InvalidWhich(which);
        }
        var context = await db.RunInputsAsync(id, cancellationToken);
        if (context is null)
        {
            return Problems.NotFound("run", id);
        }
        // Samples arrive as the dataset's files held them; its preprocessing (scale, standardize, reshape) is
        // applied exactly as at training time.
        var shape = context.Dataset.StoredSampleShape;
        var sampleSize = shape.Aggregate(1, (product, dimension) => product * dimension);
        if (request?.Samples is not { Count: > 0 } samples)
        {
            return Invalid("samples", $"is required: a list of samples, each {sampleSize} numbers (shape {ModelValidator.Format(shape)}).");
        }
        if (samples.Count > MaxPredictSamples)
        {
            return Invalid("samples", $"has {samples.Count} samples; send at most {MaxPredictSamples} per request.");
        }
        var features = new float[samples.Count * sampleSize];
        for (var index = 0; index < samples.Count; index++)
        {
            var values = new List<float>(sampleSize);
            if (Flatten(samples[index], values, sampleSize) is { } problem)
            {
                return Invalid($"samples[{index}]", problem switch
                {
                    Unreadable.NotANumber => $"must hold only finite numbers, exactly {sampleSize} of them (shape {ModelValidator.Format(shape)}).",
                    _ => "holds a value beyond float32: values must fit in float32 (at most about ±3.4e38 in size), as the model computes in float32.",
                });
            }
            if (values.Count != sampleSize)
            {
                return Invalid($"samples[{index}]", $"has {values.Count} numbers; one sample of dataset '{context.Dataset.Name}' has {sampleSize} (shape {ModelValidator.Format(shape)}).");
            }
            values.CopyTo(features, index * sampleSize);
        }
        using var model = LoadModel(context, artifacts, choice);
        if (model is null)
        {
            return NoWeights(id, choice);
        }
        var regression = context.Dataset.Task == DatasetTask.Regression;
        var outputs = model.Predict(features, samples.Count, shape, context.Dataset.Preprocessing, probabilities: !regression);
        // Finite inputs can still overflow float32 inside the model (or its preprocessing): say so rather than answer NaN.
        var overflowed = Array.FindIndex(outputs, row => !row.All(float.IsFinite));
        if (overflowed >= 0)
        {
            return Invalid($"samples[{overflowed}]", "makes the model's output overflow float32 (NaN or Infinity): its values are too large for this model "
                + "after the dataset's preprocessing; send values in the range of the data it was trained on.");
        }
        if (regression)
        {
            return TypedResults.Ok(new PredictResponse(outputs.Select(row => new Prediction(null, null, null, row)).ToList()));
        }
        var probabilities = outputs;
        var classNames = context.Dataset.ClassNames;
        return TypedResults.Ok(new PredictResponse(probabilities.Select(row =>
        {
            var predicted = Array.IndexOf(row, row.Max());
            return new Prediction(predicted, classNames[predicted], row, null);
        }).ToList()));
    }

    public static async Task<Results<FileContentHttpResult, ValidationProblem, NotFound<ProblemDetails>, Conflict<ProblemDetails>>> Weights(
        Guid id, string? format, string? which, ExperimentsDbContext db, IArtifactStore artifacts, CancellationToken cancellationToken)
    {
        WeightsFormat? chosen = (format ?? "torchsharp").ToLowerInvariant() switch
        {
            "torchsharp" => WeightsFormat.TorchSharp,
            "pytorch" or "pt" => WeightsFormat.PyTorch,
            "safetensors" => WeightsFormat.Safetensors,
            "onnx" => WeightsFormat.Onnx,
            "card" => WeightsFormat.ModelCard,
            _ => null,
        };
        if (chosen is null)
        {
            return Invalid("format", $"'{format}' is not a weights format; use torchsharp, pytorch, safetensors, onnx or card.");
        }
        if (ParseWhich(which) is not { } choice)
        {
            return InvalidWhich(which);
        }
        var context = await db.RunInputsAsync(id, cancellationToken);
        if (context is null)
        {
            return Problems.NotFound("run", id);
        }
        var (layers, summary) = context.ResolveModel();
        using var model = TrainedModel.Load(layers, summary, artifacts.WeightFiles(id), choice);
        if (model is null)
        {
            return NoWeights(id, choice);
        }
        using var buffer = new MemoryStream();
        try
        {
            model.Export(buffer, chosen.Value, ModelDescription.Of(context, layers, summary));
        }
        catch (ExportRefusedException refused)
        {
            return Invalid(refused.Field, refused.Message);
        }
        var (extension, contentType) = chosen switch
        {
            WeightsFormat.PyTorch => ("pt", "application/octet-stream"),
            WeightsFormat.Safetensors => ("safetensors", "application/octet-stream"),
            WeightsFormat.Onnx => ("onnx", "application/octet-stream"),
            WeightsFormat.ModelCard => ("md", "text/markdown; charset=utf-8"),
            _ => ("bin", "application/octet-stream"),
        };
        return TypedResults.File(buffer.ToArray(), contentType, $"{context.Model.Name}-v{context.Model.Version}-{id.ToString("N")[..8]}{(choice == WeightsChoice.Best ? "-best" : "")}.{extension}");
    }

    private enum Unreadable
    {
        NotANumber,
        BeyondFloat32,
    }

    /// <summary>Adds the sample's numbers to <paramref name="values"/>; null when all were read, else why one was not.</summary>
    private static Unreadable? Flatten(JsonElement element, List<float> values, int limit)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Number:
                // 1e39 is a finite double but Infinity as a float32; 1e400 is Infinity already as a double.
                if (!element.TryGetDouble(out var number) || !float.IsFinite((float)number))
                {
                    return Unreadable.BeyondFloat32;
                }
                values.Add((float)number);
                return null;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    if (Flatten(item, values, limit) is { } problem)
                    {
                        return problem;
                    }
                    if (values.Count > limit)
                    {
                        // Too many values: the caller reports the count; no need to read the rest.
                        return null;
                    }
                }
                return null;
            default:
                return Unreadable.NotANumber;
        }
    }

    private static ValidationProblem Invalid(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] }, title: "The request is not valid.");

    internal static Conflict<ProblemDetails> NoWeights(Guid id, WeightsChoice which) => TypedResults.Conflict(which == WeightsChoice.Best
        ? new ProblemDetails
        {
            Status = StatusCodes.Status409Conflict,
            Title = "The run has no best weights yet.",
            Detail = $"Run {id} has not evaluated an epoch yet (the best epoch is chosen at each evaluation, see evaluateEvery); "
                + $"try again once GET /api/runs/{id} shows a bestEpoch, or use which=last.",
        }
        : new ProblemDetails
        {
            Status = StatusCodes.Status409Conflict,
            Title = "The run has no trained weights yet.",
            Detail = $"Run {id} has not finished an epoch; try again once GET /api/runs/{id} shows epochsCompleted of 1 or more.",
        });

    /// <summary>The <c>which</c> query parameter; null when it names neither.</summary>
    public static WeightsChoice? ParseWhich(string? which) => (which ?? "last").ToLowerInvariant() switch
    {
        "last" => WeightsChoice.Last,
        "best" => WeightsChoice.Best,
        _ => null,
    };

    public static ValidationProblem InvalidWhich(string? which) =>
        Invalid("which", $"'{which}' is not a choice of weights; use last (the final weights, or the last checkpoint's) or best (the best epoch's).");

    public static TrainedModel? LoadModel(RunInputs inputs, IArtifactStore artifacts, WeightsChoice which)
    {
        var (layers, summary) = inputs.ResolveModel();
        return TrainedModel.Load(layers, summary, artifacts.WeightFiles(inputs.Run.Id), which);
    }
}
