using System.Globalization;
using Experiments.Api.Hosting;
using Experiments.Api.Persistence;
using Experiments.Domain.Datasets;
using Experiments.Domain.Runs;
using Experiments.Domain.Validation;
using Experiments.Training.Data;
using Experiments.Training.Inference;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Experiments.Api.Runs;

/// <summary>A classifier run's worst mistakes on a split: what the confusion matrix counts, sample by sample.</summary>
public static class MistakesApi
{
    public const int DefaultCount = 16;
    public const int MaxCount = 100;

    /// <summary>Class names listed in a message about an unknown class, at most.</summary>
    private const int ListedClasses = 20;

    /// <summary>The values of <c>kind</c>, in the order the document lists them; the first is the default.</summary>
    public static IReadOnlyList<string> Kinds { get; } = ["wrong", "confidentWrong", "ambiguous"];

    /// <summary>The values of <c>split</c>; the first is the default. validation only for a run that holds one out.</summary>
    public static IReadOnlyList<string> Splits { get; } = ["test", "train", "validation"];

    public static RouteGroupBuilder MapMistakes(this RouteGroupBuilder group)
    {
        group.MapGet("/{id:guid}/mistakes", List)
            .WithName("listRunMistakes")
            .DescribesQuery("split", Splits, defaultValue: Splits[0])
            .DescribesQuery("kind", Kinds, defaultValue: Kinds[0])
            .DescribesQuery("count", minimum: 1, maximum: MaxCount, defaultValue: DefaultCount)
            .DescribesQuery("which", TrainedModelApi.WeightsChoices, defaultValue: TrainedModelApi.WeightsChoices[0])
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .WithSummary("A classifier's mistakes on a split: misclassified, most confidently wrong, or most ambiguous samples")
            .WithDescription("`kind` is wrong (default: misclassified samples in the split's order), confidentWrong (misclassified, the highest "
                + "probability of the wrong predicted class first) or ambiguous (every sample, the smallest margin between its two most probable "
                + "classes first). `true` and `predicted` keep the samples of one true or predicted class, by name or index: with both, the samples of "
                + "one confusion-matrix cell. `split` is test (default), train (the rows training used) or validation (the rows held out, for a run "
                + $"with validationFraction). `count` (1 to {MaxCount}, default {DefaultCount}) samples are answered; `total` is how many matched, so for "
                + "wrong it equals the confusion matrix's off-diagonal sum, or its cell. Each sample has its index in the split, its row in the stored "
                + "split, the true and predicted class, every class's probability and, for images, a PNG of the sample as stored, else its first values. "
                + "The predicted classes are decided as the run's evaluation decides them, at the run's batch size: with which=last, the run's "
                + "test evaluation and mistakes agree cell by cell." + TrainedModelApi.WhichDescription);
        return group;
    }

    public static async Task<Results<Ok<RunMistakes>, ValidationProblem, NotFound<ProblemDetails>, Conflict<ProblemDetails>, ProblemHttpResult>> List(
        Guid id,
        string? split,
        string? kind,
        [FromQuery(Name = "true")] string? trueClass,
        string? predicted,
        int? count,
        string? which,
        ExperimentsDbContext db,
        IArtifactStore artifacts,
        HeavyRequests heavy,
        CancellationToken cancellationToken)
    {
        if (TrainedModelApi.ParseWhich(which) is not { } weights)
        {
            return TrainedModelApi.InvalidWhich(which);
        }
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var splitName = QueryParameters.NullIfEmpty(split) ?? Splits[0];
        MistakeSplit? chosenSplit = splitName switch
        {
            "test" => MistakeSplit.Test,
            "train" => MistakeSplit.Train,
            "validation" => MistakeSplit.Validation,
            _ => null,
        };
        if (chosenSplit is null)
        {
            errors["split"] = [$"'{splitName}' is not a split; use {Listed(Splits)}.{NearestName.Hint(splitName, Splits)}"];
        }
        var kindName = QueryParameters.NullIfEmpty(kind) ?? Kinds[0];
        MistakeKind? chosenKind = kindName switch
        {
            "wrong" => MistakeKind.Wrong,
            "confidentWrong" => MistakeKind.ConfidentWrong,
            "ambiguous" => MistakeKind.Ambiguous,
            _ => null,
        };
        if (chosenKind is null)
        {
            errors["kind"] = [$"'{kindName}' is not a kind of mistake; use {Listed(Kinds)}.{NearestName.Hint(kindName, Kinds)}"];
        }
        var samples = count ?? DefaultCount;
        if (samples is < 1 or > MaxCount)
        {
            errors["count"] = [$"must be between 1 and {MaxCount}; got {samples}."];
        }
        if (errors.Count > 0)
        {
            return Invalid(errors);
        }

        var context = await db.RunInputsAsync(id, cancellationToken);
        if (context is null)
        {
            return Problems.NotFound("run", id);
        }
        var dataset = context.Dataset;
        var spec = context.Run.Spec;
        if (dataset.Task == DatasetTask.Regression)
        {
            return Invalid(new() { ["id"] = [$"run {id} trained on '{dataset.Name}', a regression dataset: mistakes need class labels. "
                + "See its evaluation's mse, mae and r2 in GET /api/runs/{id}, or predict samples with POST /api/runs/{id}/predict."] });
        }
        if (chosenSplit == MistakeSplit.Validation && spec.ValidationFraction is null)
        {
            errors["split"] = [$"run {id} holds no validation split out (its spec has no validationFraction); use test or train."];
        }
        var trueIndex = ClassIndex(trueClass, "true", dataset, errors);
        var predictedIndex = ClassIndex(predicted, "predicted", dataset, errors);
        if (errors.Count > 0)
        {
            return Invalid(errors);
        }

        using var model = TrainedModelApi.LoadModel(context, artifacts, weights);
        if (model is null)
        {
            return TrainedModelApi.NoWeights(id, weights);
        }
        using var turn = await heavy.EnterAsync(cancellationToken);
        if (turn is null)
        {
            return HeavyRequests.Busy();
        }
        var path = artifacts.TensorFilePath(dataset);
        var data = LoadedDataset.Read(dataset, path);
        var chosen = SplitSamples.Of(data, chosenSplit!.Value, spec.ValidationFraction, spec.Seed!.Value);
        var classified = model.Classify(data, chosen.Samples, spec.BatchSize!.Value, cancellationToken);
        var (total, mistakes) = Mistakes.Find(chosen.Samples.Labels, classified, chosenKind!.Value, trueIndex, predictedIndex, samples);

        // The samples as stored, for their pictures or first values: only the chosen rows are read again.
        var (header, stored) = DatasetFile.ReadRows(path, chosen.StoredInTest, [.. mistakes.Select(mistake => chosen.StoredRows[mistake.Index])]);
        var names = dataset.ClassNames;
        var answered = mistakes.Select((mistake, position) =>
        {
            var shown = DatasetPreviewer.Show(dataset, header.FeatureType, stored.Sample(position));
            return new MistakeSample(mistake.Index, chosen.StoredRows[mistake.Index], mistake.TrueClass, names[mistake.TrueClass],
                mistake.PredictedClass, names[mistake.PredictedClass], mistake.Probabilities, mistake.Margin, shown.Features, shown.Png);
        }).ToList();
        return TypedResults.Ok(new RunMistakes(id, splitName, chosen.StoredInTest ? "test" : "train", kindName, trueIndex, predictedIndex, total,
            names, dataset.SampleShape, DatasetPreviewer.IsImages(dataset), answered));
    }

    /// <summary>A class by name (as the dataset names it) or by index; null when not sent, or when not a class (the error added).</summary>
    private static int? ClassIndex(string? sent, string field, Dataset dataset, Dictionary<string, string[]> errors)
    {
        if (QueryParameters.NullIfEmpty(sent) is not { } name)
        {
            return null;
        }
        var names = dataset.ClassNames;
        var byName = Array.IndexOf(names, name);
        if (byName >= 0)
        {
            return byName;
        }
        if (int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index < names.Length)
        {
            return index;
        }
        var listed = names.Length <= ListedClasses ? string.Join(", ", names) : string.Join(", ", names.Take(ListedClasses)) + ", …";
        errors[field] = [$"'{name}' is not a class of dataset '{dataset.Name}'; use a class name ({listed}) or an index from 0 to {names.Length - 1}."
            + NearestName.Hint(name, names)];
        return null;
    }

    private static string Listed(IReadOnlyList<string> values) => string.Join(", ", values.Take(values.Count - 1)) + " or " + values[^1];

    private static ValidationProblem Invalid(Dictionary<string, string[]> errors) =>
        TypedResults.ValidationProblem(errors, title: "The mistakes cannot be listed.");
}
