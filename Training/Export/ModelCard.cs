using System.Globalization;
using System.Text;
using Experiments.Domain.Datasets;
using Experiments.Domain.Models;
using Experiments.Training.Export.Onnx;

namespace Experiments.Training.Export;

/// <summary>
/// A Markdown model card: what goes into the model (the raw sample and the preprocessing, with its fitted numbers),
/// what comes out (the classes in order, or the regression outputs), the layers, the state dict's keys and how the run
/// trained. Everything in it is also in the safetensors and ONNX metadata.
/// </summary>
public static class ModelCard
{
    /// <summary>Per-feature mean and std are tabulated up to this many features; the JSON holds them all.</summary>
    private const int MaxTabulatedFeatures = 32;

    public static string Write(ModelDescription model, StateDict weights)
    {
        var card = new StringBuilder();
        var regression = model.Task == DatasetTask.Regression;
        Line(card, $"# {model.ModelName} v{model.ModelVersion}");
        Line(card);
        Line(card, $"Run `{model.RunId}`, trained on dataset **{model.DatasetName}** "
            + (regression ? "(regression)." : $"(classification, {model.ClassNames.Length} classes)."));
        Line(card);

        Line(card, "## Input");
        Line(card);
        Line(card, $"One sample is {Shape(model.InputShape)} float32 values, as the dataset's file holds it (row-major). "
            + "The model was trained on samples prepared as follows; the ONNX export does this itself, "
            + "the PyTorch, safetensors and TorchSharp weights expect it done:");
        Line(card);
        var preprocessing = model.Preprocessing;
        var step = 1;
        if (preprocessing.Scale is { } scale)
        {
            Line(card, $"{step++}. multiply every value by the scale {scale.ToString("R", CultureInfo.InvariantCulture)} (in float32);");
        }
        if (preprocessing.Standardize)
        {
            Line(card, $"{step++}. per feature j: `x[j] = (x[j] - mean[j]) / std[j]`, with the mean and standard deviation fitted on the "
                + (preprocessing.Scale is null ? "training split;" : "scaled training split;"));
        }
        Line(card, preprocessing.Reshape is { } reshape
            ? $"{step}. view the sample as {Shape(reshape)}, the shape the first layer takes."
            : $"{step}. the first layer takes the sample as {Shape(model.ModelInputShape)}.");
        Line(card);
        if (preprocessing.Standardize && preprocessing.Mean!.Length <= MaxTabulatedFeatures)
        {
            Line(card, "| feature | mean | std |");
            Line(card, "|---|---|---|");
            for (var j = 0; j < preprocessing.Mean.Length; j++)
            {
                Line(card, $"| {j} | {Number(preprocessing.Mean[j])} | {Number(preprocessing.Std![j])} |");
            }
            Line(card);
        }
        Line(card, "The preprocessing as JSON (also `preprocessing` in the safetensors `__metadata__` and the ONNX `metadata_props`):");
        Line(card);
        Line(card, "```json");
        Line(card, model.PreprocessingJson);
        Line(card, "```");
        Line(card);

        Line(card, "## Output");
        Line(card);
        if (regression)
        {
            Line(card, $"The last layer's {Shape(model.Summary.OutputShape)} values are the predictions (ONNX output `{OnnxExport.PredictionsName}`).");
        }
        else
        {
            Line(card, model.Summary.OutputShape is [1]
                ? "The last layer gives one logit z: the probability of class 1 is σ(z), of class 0 is 1 − σ(z)."
                : $"The last layer gives one logit per class; their softmax is the probability of each class.");
            Line(card, $"ONNX output `{OnnxExport.ProbabilitiesName}` is already the probabilities. Classes, by index:");
            Line(card);
            Line(card, "| index | class |");
            Line(card, "|---|---|");
            for (var c = 0; c < model.ClassNames.Length; c++)
            {
                Line(card, $"| {c} | {Cell(model.ClassNames[c])} |");
            }
        }
        Line(card);

        Line(card, "## Layers");
        Line(card);
        Line(card, $"Input {Shape(model.ModelInputShape)}, {model.Summary.TotalParameters.ToString("N0", CultureInfo.InvariantCulture)} parameters.");
        Line(card);
        Line(card, "| # | layer | output | parameters |");
        Line(card, "|---|---|---|---|");
        Layers(card, model.Layers, model.Summary.Layers, "");
        Line(card);
        Line(card, "The layer stack as JSON (what `POST /api/models` takes):");
        Line(card);
        Line(card, "```json");
        Line(card, model.LayersJson);
        Line(card, "```");
        Line(card);

        Line(card, "## Weights");
        Line(card);
        Line(card, "State-dict keys, as in the PyTorch and safetensors files:");
        Line(card);
        Line(card, "| key | shape | dtype |");
        Line(card, "|---|---|---|");
        foreach (var tensor in weights.Tensors)
        {
            Line(card, $"| `{tensor.Name}` | [{string.Join(", ", tensor.Shape)}] | {tensor.Dtype.ToString().ToLowerInvariant()} |");
        }
        Line(card);
        Line(card, $"Downloads from `GET /api/runs/{model.RunId}/weights`: `?format=pytorch` (torch.save of the state dict), "
            + $"`?format=safetensors`, `?format=onnx` (opset {OnnxExport.Opset}, preprocessing included), `?format=torchsharp`, "
            + "`?format=card` (this file).");
        Line(card);

        if (model.Training.Count > 0)
        {
            Line(card, "## Training");
            Line(card);
            Line(card, "| | |");
            Line(card, "|---|---|");
            foreach (var (name, value) in model.Training)
            {
                Line(card, $"| {name} | {Cell(value)} |");
            }
        }
        return card.ToString();
    }

    private static void Layers(StringBuilder card, IReadOnlyList<LayerSpec> layers, IReadOnlyList<LayerSummary> shapes, string prefix)
    {
        for (var index = 0; index < layers.Count; index++)
        {
            var shape = shapes[index];
            var description = layers[index].Type == "residual" ? "residual (x + the layers below)" : layers[index].Describe();
            Line(card, $"| {prefix}{index} | {Cell(description)} | {Shape(shape.OutputShape)} | {shape.Parameters.ToString("N0", CultureInfo.InvariantCulture)} |");
            if (shape.Layers is { } inner)
            {
                Layers(card, ModelValidator.SubLayers(layers[index]), inner, $"{prefix}{index}.layers.");
            }
        }
    }

    private static string Shape(IEnumerable<int> shape) => "[" + string.Join(", ", shape) + "]";

    private static string Number(float value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Text inside a table cell: a pipe would end the cell.</summary>
    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).ReplaceLineEndings(" ");

    private static void Line(StringBuilder card, string text = "") => card.Append(text).Append('\n');
}
