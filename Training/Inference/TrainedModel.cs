using System.Text;
using Experiments.Domain.Datasets;
using Experiments.Domain.Losses;
using Experiments.Domain.Models;
using Experiments.Training.Checkpoints;
using Experiments.Training.Data;
using Experiments.Training.Evaluation;
using Experiments.Training.Export;
using Experiments.Training.Export.Onnx;
using Experiments.Training.Layers;
using Experiments.Training.Losses;
using Experiments.Training.Metrics;
using TorchSharp;
using static TorchSharp.torch;

namespace Experiments.Training.Inference;

public enum WeightsFormat
{
    /// <summary>TorchSharp's own format (<c>module.load</c> in .NET).</summary>
    TorchSharp,

    /// <summary>A PyTorch state dict as written by <c>torch.save(model.state_dict())</c>.</summary>
    PyTorch,

    /// <summary>A safetensors file whose <c>__metadata__</c> holds the classes, the layers and the preprocessing.</summary>
    Safetensors,

    /// <summary>An ONNX graph of the model with the dataset's preprocessing folded in.</summary>
    Onnx,

    /// <summary>A Markdown model card: input, preprocessing, output, layers, weights and training.</summary>
    ModelCard,
}

/// <summary>Which of a run's weights to use: those it ended with, or those of its best epoch.</summary>
public enum WeightsChoice
{
    /// <summary>The final weights, or the last checkpoint's while the run has not finished.</summary>
    Last,

    /// <summary>The weights of the best epoch (chosen on validation when the run holds a validation split out, else on test).</summary>
    Best,
}

/// <summary>Where a run's weights are: the final ones, the last checkpoint and the best epoch's.</summary>
public sealed record RunWeightFiles(string Weights, string Checkpoint, string Best);

/// <summary>
/// A run's trained model on the CPU in eval mode: for evaluation on other data, prediction and export.
/// Loads the final weights, or the last checkpoint's when training did not finish.
/// </summary>
public sealed class TrainedModel : IDisposable
{
    private readonly nn.Module<Tensor, Tensor> _module;

    private TrainedModel(nn.Module<Tensor, Tensor> module)
    {
        _module = module;
        _module.eval();
    }

    /// <summary>
    /// Null when the run has none of the weights asked for: for <see cref="WeightsChoice.Last"/> neither final weights nor a
    /// checkpoint, for <see cref="WeightsChoice.Best"/> no evaluated epoch yet.
    /// </summary>
    public static TrainedModel? Load(IReadOnlyList<LayerSpec> layers, ModelSummary summary, RunWeightFiles files, WeightsChoice which = WeightsChoice.Last)
    {
        var path = which == WeightsChoice.Best ? files.Best : File.Exists(files.Weights) ? files.Weights : files.Checkpoint;
        if (!File.Exists(path))
        {
            return null;
        }
        var module = ModelBuilder.Build(layers, summary);
        if (path == files.Checkpoint)
        {
            Checkpoint.LoadModel(path, module);
        }
        else
        {
            module.load(path);
        }
        return new TrainedModel(module);
    }

    /// <summary>The loss and metrics on <paramref name="split"/> of <paramref name="data"/>, its samples prepared with the dataset's preprocessing batch by batch.</summary>
    public SplitMetrics Evaluate(LoadedDataset data, DatasetArrays split, LossSpec loss, int batchSize = 256)
    {
        using var tensors = TensorSplit.From(split, data.StoredShape, data.Preprocessing, CPU);
        return Evaluator.Evaluate(_module, LossFactory.Create(loss, split.Kind), tensors, batchSize, split.Kind, data.ClassCount > 0 ? data.ClassCount : null);
    }

    /// <summary>
    /// A classifier's predicted class and class probabilities for every sample of <paramref name="split"/> of
    /// <paramref name="data"/>, decided as the confusion matrix of <see cref="Evaluate"/> (and of training's final
    /// evaluation, at the run's batch size) decides them.
    /// </summary>
    public ClassifiedSamples Classify(LoadedDataset data, DatasetArrays split, int batchSize, CancellationToken cancellationToken)
    {
        using var tensors = TensorSplit.From(split, data.StoredShape, data.Preprocessing, CPU);
        return Evaluator.Classify(_module, tensors, batchSize, cancellationToken);
    }

    /// <summary>
    /// The model's outputs for <paramref name="count"/> raw samples of <paramref name="storedShape"/> laid out row-major in
    /// <paramref name="features"/>, prepared with <paramref name="preprocessing"/> as training prepared its batches. With
    /// <paramref name="probabilities"/>, each class's probability: the softmax of the logits, or for a single logit
    /// (bceWithLogits on two classes) [1 − σ(z), σ(z)].
    /// </summary>
    public float[][] Predict(float[] features, int count, int[] storedShape, Preprocessing preprocessing, bool probabilities)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var preprocessor = new FeaturePreprocessor(preprocessing, storedShape, CPU);
        var input = preprocessor.Apply(tensor(features, [count, .. storedShape.Select(d => (long)d)]));
        var output = _module.forward(input);
        if (probabilities)
        {
            output = Evaluator.Probabilities(output);
        }
        var width = (int)output.shape[1];
        var flat = output.contiguous().data<float>().ToArray();
        return Enumerable.Range(0, count).Select(row => flat.AsSpan(row * width, width).ToArray()).ToArray();
    }

    /// <summary>
    /// Writes the weights (or the model card) in <paramref name="format"/>; <see cref="ExportRefusedException"/> when a
    /// layer has no equivalent in the format.
    /// </summary>
    public void Export(Stream destination, WeightsFormat format, ModelDescription description)
    {
        switch (format)
        {
            case WeightsFormat.TorchSharp:
                _module.save(destination);
                break;
            case WeightsFormat.PyTorch:
                TorchSave.Write(destination, StateDict.From(_module));
                break;
            case WeightsFormat.Safetensors:
                SafetensorsWriter.Write(destination, StateDict.From(_module), new Dictionary<string, string>(description.Metadata()) { ["format"] = "pt" });
                break;
            case WeightsFormat.Onnx:
                OnnxExport.Write(destination, StateDict.From(_module), description);
                break;
            case WeightsFormat.ModelCard:
                destination.Write(Encoding.UTF8.GetBytes(ModelCard.Write(description, StateDict.From(_module))));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(format), format, null);
        }
    }

    public void Dispose() => _module.Dispose();
}
