using Experiments.Domain.Datasets;
using Experiments.Domain.Models;

namespace Experiments.Training.Export.Onnx;

/// <summary>
/// Writes a trained model as an ONNX graph (opset <see cref="OnnxGraph.Opset"/>) built from its layer spec, with the
/// dataset's preprocessing folded in: the input <c>input</c> is a float32 batch of raw samples
/// <c>[batch, ...InputShape]</c> exactly as <c>POST /api/runs/{id}/predict</c> takes them; the output is
/// <c>probabilities</c> <c>[batch, classes]</c> (softmax over the logits, or [1 − σ, σ] for a single logit) for a
/// classifier, <c>predictions</c> for regression. Every layer type of the catalog maps onto standard operators.
/// </summary>
public static class OnnxExport
{
    public const string InputName = "input";
    public const string ProbabilitiesName = "probabilities";
    public const string PredictionsName = "predictions";

    public static int Opset => OnnxGraph.Opset;

    public static void Write(Stream destination, StateDict weights, ModelDescription model)
    {
        var graph = new OnnxGraph();
        var x = Preprocess(graph, model);
        x = new LayerEmitter(graph, weights).Stack(x, model.Layers, model.Summary.Layers, model.ModelInputShape, "", "layers");

        long[] outputShape = [.. model.Summary.OutputShape.Select(d => (long)d)];
        string output;
        if (model.Task == DatasetTask.Regression)
        {
            output = graph.Node("Identity", PredictionsName, [x]);
        }
        else if (outputShape is [1])
        {
            // One logit for two classes (bceWithLogits): P(class 1) = σ(z), as /predict answers it.
            var positive = graph.Node("Sigmoid", "positive", [x]);
            var negative = graph.Node("Sub", "negative", [graph.Scalar("one", 1f), positive]);
            output = graph.Node("Concat", ProbabilitiesName, [negative, positive], OnnxAttribute.Of("axis", 1L));
            outputShape = [2];
        }
        else
        {
            output = graph.Node("Softmax", ProbabilitiesName, [x], OnnxAttribute.Of("axis", 1L));
        }

        var doc = $"Run {model.RunId}: {model.ModelName} v{model.ModelVersion} trained on '{model.DatasetName}'. "
            + $"Input '{InputName}': float32 [batch, {string.Join(", ", model.InputShape)}], raw samples as the dataset stores them "
            + "(the dataset's preprocessing is part of the graph). "
            + (model.Task == DatasetTask.Regression
                ? $"Output '{PredictionsName}': the predicted values."
                : $"Output '{ProbabilitiesName}': the probability of each class, in the order of the metadata's classNames.");
        graph.Write(destination, model.ModelName, doc, (InputName, [.. model.InputShape.Select(d => (long)d)]), (output, outputShape), model.Metadata());
    }

    private static string Preprocess(OnnxGraph graph, ModelDescription model)
    {
        var x = InputName;
        var preprocessing = model.Preprocessing;
        long[] stored = [.. model.InputShape.Select(d => (long)d)];
        if (preprocessing.Scale is { } scale)
        {
            // DatasetPreprocessing multiplies by the scale as a float32, as this does.
            x = graph.Node("Mul", "preprocessing.scaled", [x, graph.Scalar("preprocessing.scale", (float)scale)]);
        }
        if (preprocessing.Standardize)
        {
            x = graph.Node("Sub", "preprocessing.centred", [x, graph.Constant("preprocessing.mean", stored, preprocessing.Mean!)]);
            x = graph.Node("Div", "preprocessing.standardized", [x, graph.Constant("preprocessing.std", stored, preprocessing.Std!)]);
        }
        if (preprocessing.Reshape is { } reshape)
        {
            x = graph.Node("Reshape", "preprocessing.reshaped", [x, Shape(graph, "preprocessing.shape", reshape)]);
        }
        return x;
    }

    /// <summary>A Reshape target: 0 keeps the batch dimension, the rest is one sample's shape.</summary>
    internal static string Shape(OnnxGraph graph, string name, IEnumerable<int> sampleShape) =>
        graph.Constant(name, [sampleShape.Count() + 1], [0L, .. sampleShape.Select(d => (long)d)]);
}
