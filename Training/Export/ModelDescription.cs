using System.Globalization;
using System.Text.Json;
using Experiments.Domain.Datasets;
using Experiments.Domain.Models;
using Experiments.Domain.Runs;

namespace Experiments.Training.Export;

/// <summary>
/// What an exported model needs besides its weights to be used outside the service: what one raw sample is
/// (<see cref="InputShape"/>, float32, as the dataset's files held it), the <see cref="Preprocessing"/> the model was
/// trained behind, what its outputs mean (<see cref="Task"/>, <see cref="ClassNames"/>) and the resolved layer stack.
/// <see cref="Training"/> lists how it was trained, for the model card.
/// </summary>
public sealed record ModelDescription(
    Guid RunId,
    string ModelName,
    int ModelVersion,
    string DatasetName,
    DatasetTask Task,
    string[] ClassNames,
    int[] InputShape,
    Preprocessing Preprocessing,
    IReadOnlyList<LayerSpec> Layers,
    ModelSummary Summary,
    IReadOnlyList<(string Name, string Value)> Training)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static ModelDescription Of(RunInputs inputs, IReadOnlyList<LayerSpec> layers, ModelSummary summary)
    {
        var (run, dataset, model) = (inputs.Run, inputs.Dataset, inputs.Model);
        var training = new List<(string, string)>
        {
            ("status", run.Status.ToString()),
            ("epochs", $"{run.EpochsCompleted} of {run.Spec.Epochs}"),
            ("optimizer", run.Spec.Optimizer?.Describe() ?? "none"),
            ("loss", run.Spec.Loss?.Describe() ?? "none"),
            ("batch size", $"{run.Spec.BatchSize}"),
            ("seed", $"{run.Spec.Seed}"),
        };
        if (run.Evaluation is { } evaluation)
        {
            training.Add(evaluation.Accuracy is { } accuracy
                ? ($"{evaluation.Split} accuracy", accuracy.ToString("0.####", CultureInfo.InvariantCulture))
                : ($"{evaluation.Split} MSE", (evaluation.Mse ?? double.NaN).ToString("G6", CultureInfo.InvariantCulture)));
        }
        return new ModelDescription(run.Id, model.Name, model.Version, dataset.Name, dataset.Task, dataset.ClassNames,
            dataset.StoredSampleShape, dataset.Preprocessing, layers, summary, training);
    }

    /// <summary>Shape of one sample as the model's first layer sees it: after the preprocessing's reshape.</summary>
    public int[] ModelInputShape => Summary.InputShape;

    /// <summary>The layer stack as JSON: what <c>POST /api/models</c> takes, every default filled in.</summary>
    public string LayersJson => JsonSerializer.Serialize(Layers, Json);

    /// <summary>
    /// The preprocessing as JSON, <c>{"scale", "standardize", "reshape", "mean", "std"}</c>: apply to a raw float32 sample
    /// <c>x = x * scale</c> (if scale), then <c>x = (x - mean) / std</c> per feature (if standardize), then reshape.
    /// </summary>
    public string PreprocessingJson => JsonSerializer.Serialize(Preprocessing, Json);

    /// <summary>
    /// The same facts as string pairs, for safetensors' <c>__metadata__</c> and ONNX's <c>metadata_props</c> (both take
    /// strings only: lists and objects are JSON).
    /// </summary>
    public IReadOnlyDictionary<string, string> Metadata() => new Dictionary<string, string>
    {
        ["run"] = RunId.ToString(),
        ["model"] = $"{ModelName} v{ModelVersion}",
        ["dataset"] = DatasetName,
        ["task"] = Task == DatasetTask.Regression ? "regression" : "classification",
        ["classNames"] = JsonSerializer.Serialize(ClassNames, Json),
        ["inputShape"] = JsonSerializer.Serialize(InputShape, Json),
        ["modelInputShape"] = JsonSerializer.Serialize(ModelInputShape, Json),
        ["preprocessing"] = PreprocessingJson,
        ["layers"] = LayersJson,
    };
}
