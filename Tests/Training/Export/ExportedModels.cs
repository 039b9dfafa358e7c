using System.Text.Json;
using Experiments.Domain.Datasets;
using Experiments.Domain.Models;
using Experiments.Domain.Validation;
using Experiments.Tests.Support;
using Experiments.Training.Data;
using Experiments.Training.Export;
using Experiments.Training.Inference;
using Experiments.Training.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Experiments.Tests.Training.Export;

/// <summary>A model with weights of its own, saved and loaded back as a run's trained model is, with what the export needs to know.</summary>
public sealed record ExportedModel(TrainedModel Model, ModelDescription Description) : IDisposable
{
    /// <summary>What <c>POST /api/runs/{id}/predict</c> answers for raw samples: the dataset's preprocessing, then the model.</summary>
    public float[][] Predict(float[] raw, int count) =>
        Model.Predict(raw, count, Description.InputShape, Description.Preprocessing, probabilities: Description.Task == DatasetTask.Classification);

    public byte[] Export(WeightsFormat format)
    {
        using var buffer = new MemoryStream();
        Model.Export(buffer, format, Description);
        return buffer.ToArray();
    }

    public void Dispose() => Model.Dispose();
}

/// <summary>Builds models from layer stacks for the export tests: random weights, and random statistics in every norm layer.</summary>
public static class ExportedModels
{
    public static ExportedModel Create(TemporaryFolder folder, IReadOnlyList<LayerSpec?> stack, int[] storedShape, Preprocessing preprocessing,
        DatasetTask task, string[] classNames, long seed = 1)
    {
        var errors = new ValidationErrors();
        var layers = ModelValidator.Resolve(stack, errors);
        var summary = layers is null ? null : ModelValidator.InferShapes(layers, preprocessing.Reshape ?? storedShape, errors);
        Assert.True(errors.IsEmpty, errors.ToString());

        torch.manual_seed(seed);
        var weights = folder.File($"weights-{Guid.NewGuid():N}.bin");
        using (var module = ModelBuilder.Build(layers!, summary!))
        {
            Randomize(module);
            module.save(weights);
        }
        var model = TrainedModel.Load(layers!, summary!, new RunWeightFiles(weights, folder.File("no-checkpoint.bin"), folder.File("no-best.bin")))!;
        var description = new ModelDescription(Guid.NewGuid(), "test-model", 1, "test-data", task, classNames, storedShape, preprocessing, layers!, summary!, []);
        return new ExportedModel(model, description);
    }

    public static IReadOnlyList<LayerSpec?> Stack(string json) => JsonSerializer.Deserialize<List<LayerSpec?>>(json)!;

    /// <summary>Scale and standardization with random per-feature numbers, as import would have fitted them.</summary>
    public static Preprocessing Standardized(int[] storedShape, double scale, int seed, int[]? reshape = null)
    {
        var random = new Random(seed);
        var size = storedShape.Aggregate(1, (product, d) => product * d);
        var mean = Enumerable.Range(0, size).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var std = Enumerable.Range(0, size).Select(_ => (float)(0.5 + random.NextDouble())).ToArray();
        return new Preprocessing(scale, true, reshape, mean, std);
    }

    /// <summary>Raw samples: token indices for a model that starts with an embedding, values in [0, range) otherwise.</summary>
    public static float[] Samples(IReadOnlyList<LayerSpec?> stack, int[] storedShape, int count, int seed, double range = 4)
    {
        var random = new Random(seed);
        var size = count * storedShape.Aggregate(1, (product, d) => product * d);
        return stack[0]!.Type == "embedding"
            ? Enumerable.Range(0, size).Select(_ => (float)random.Next(stack[0]!.Int("numEmbeddings"))).ToArray()
            : Enumerable.Range(0, size).Select(_ => (float)(random.NextDouble() * range)).ToArray();
    }

    /// <summary>
    /// Biases and 1-D (norm) weights random, running means and variances random: a fresh module's are zeros and ones,
    /// which would let a mapping that mixes them up pass.
    /// </summary>
    private static void Randomize(nn.Module module)
    {
        using var noGrad = no_grad();
        foreach (var (name, parameter) in module.named_parameters())
        {
            if (name.EndsWith("bias", StringComparison.Ordinal))
            {
                parameter.uniform_(-0.5, 0.5);
            }
            else if (parameter.dim() == 1)
            {
                parameter.uniform_(0.5, 1.5);
            }
        }
        foreach (var (name, buffer) in module.named_buffers())
        {
            if (name.EndsWith("running_mean", StringComparison.Ordinal))
            {
                buffer.uniform_(-0.5, 0.5);
            }
            else if (name.EndsWith("running_var", StringComparison.Ordinal))
            {
                buffer.uniform_(0.5, 2);
            }
        }
    }
}
