using System.Text.Json;
using Experiments.Domain.Datasets;
using Experiments.Domain.Models;
using Experiments.Tests.Support;
using Experiments.Training.Export;
using Experiments.Training.Export.Onnx;
using Experiments.Training.Inference;

namespace Experiments.Tests.Training.Export;

/// <summary>
/// The ONNX export of every layer type (every stack the builder tests build, and a few more settings) and of every
/// template, run in ONNX Runtime on raw samples, answers what the service's own prediction answers for them, within
/// 1e-4: the layers map onto ONNX operators, and the dataset's preprocessing is folded in front of them.
/// </summary>
[Collection(OneAtATime.Name)]
public sealed class OnnxExportTests : IDisposable
{
    private const float Tolerance = 1e-4f;
    private const int Samples = 5;

    private readonly TemporaryFolder _folder = new();

    /// <summary>Settings the builder tests' stacks leave out, which the export maps differently.</summary>
    public static TheoryData<string, int[], string> MoreStacks => new()
    {
        { "batchNorm1d without running statistics (batch statistics in eval too)", [6], """[{"type": "batchNorm1d", "trackRunningStats": false}]""" },
        { "batchNorm1d without running statistics or affine, on sequences", [3, 5], """[{"type": "batchNorm1d", "trackRunningStats": false, "affine": false}]""" },
        { "batchNorm2d without affine", [2, 4, 4], """[{"type": "batchNorm2d", "affine": false}]""" },
        { "batchNorm2d without running statistics", [2, 4, 4], """[{"type": "batchNorm2d", "trackRunningStats": false}]""" },
        { "adaptiveAvgPool2d dividing the input", [2, 8, 6], """[{"type": "adaptiveAvgPool2d", "outputSize": [4, 3]}]""" },
        { "adaptiveAvgPool2d to one pixel", [3, 5, 7], """[{"type": "adaptiveAvgPool2d", "outputSize": 1}]""" },
        { "maxPool2d dilated", [1, 11, 11], """[{"type": "maxPool2d", "kernelSize": 3, "stride": 2, "padding": 1, "dilation": 2}]""" },
        { "avgPool2d padded, ceil, counting the padding", [1, 9, 8], """[{"type": "avgPool2d", "kernelSize": 3, "stride": 2, "padding": 1, "ceilMode": true}]""" },
        { "gelu exact", [6], """[{"type": "gelu"}]""" },
        { "softmax over the sequence", [4, 3], """[{"type": "softmax", "dim": 1}]""" },
        { "lstm without bias, bidirectional, last step", [6, 3], """[{"type": "lstm", "hiddenSize": 4, "bias": false, "bidirectional": true}]""" },
        { "gru stacked, last step", [6, 3], """[{"type": "gru", "hiddenSize": 3, "numLayers": 2}]""" },
        { "linear on a sequence after an lstm", [5, 2], """[{"type": "lstm", "hiddenSize": 3, "output": "sequence"}, {"type": "linear", "outFeatures": 2}]""" },
        { "dropout last", [4], """[{"type": "linear", "outFeatures": 3}, {"type": "dropout"}]""" },
    };

    public static TheoryData<string> Templates => new(ModelTemplates.All.Select(template => template.Name));

    [Theory]
    [MemberData(nameof(ModelBuilderTests.Stacks), MemberType = typeof(ModelBuilderTests))]
    [MemberData(nameof(MoreStacks))]
    public void Every_layer_stack_runs_in_onnx_runtime_as_the_service_predicts(string name, int[] inputShape, string json)
    {
        var stack = ExportedModels.Stack(json).ToList();
        var outputs = Summarize(stack, inputShape);
        if (outputs.Length > 1)
        {
            // The service answers one row per sample; a model with [L, F] outputs is compared flattened.
            stack.Add(new LayerSpec("flatten"));
        }
        // Token indices stay raw; any other input goes through a scale and a per-feature standardization.
        var preprocessing = stack[0]!.Type == "embedding" ? Preprocessing.None : ExportedModels.Standardized(inputShape, 0.5, seed: 3);
        using var model = ExportedModels.Create(_folder, stack, inputShape, preprocessing, DatasetTask.Regression, []);

        AssertOnnxMatchesPredict(model, ExportedModels.Samples(stack, inputShape, Samples, seed: 5), name);
    }

    [Theory]
    [MemberData(nameof(Templates))]
    public void Every_template_exports_with_the_preprocessing_folded_in(string name)
    {
        var template = ModelTemplates.All.Single(t => t.Name == name);
        // 28×28 grey images as MNIST's files hold them: 784 bytes a sample, scaled, standardized, viewed as [1, 28, 28].
        var flat = template.InputShape.Aggregate(1, (product, d) => product * d);
        int[] stored = template.InputShape[0] == 1 ? [flat] : template.InputShape;
        var preprocessing = ExportedModels.Standardized(stored, 1.0 / 255, seed: 7, reshape: template.InputShape[0] == 1 ? template.InputShape : null);
        string[] classes = [.. Enumerable.Range(0, 10).Select(c => $"class {c}")];
        using var model = ExportedModels.Create(_folder, template.Layers, stored, preprocessing, DatasetTask.Classification, classes);

        AssertOnnxMatchesPredict(model, ExportedModels.Samples(template.Layers, stored, Samples, seed: 11, range: 256), name);
    }

    [Fact]
    public void A_single_logit_classifier_answers_both_class_probabilities()
    {
        var stack = ExportedModels.Stack("""[{"type": "linear", "outFeatures": 4}, {"type": "tanh"}, {"type": "linear", "outFeatures": 1}]""");
        using var model = ExportedModels.Create(_folder, stack, [3], ExportedModels.Standardized([3], 2, seed: 2), DatasetTask.Classification, ["no", "yes"]);
        var samples = ExportedModels.Samples(stack, [3], Samples, seed: 4);

        var (probabilities, shape, _) = AssertOnnxMatchesPredict(model, samples, "single logit");

        Assert.Equal([Samples, 2L], shape);
        Assert.All(probabilities.Chunk(2), pair => Assert.Equal(1, pair[0] + pair[1], 5));
    }

    [Fact]
    public void Every_layer_type_of_the_catalog_is_exported_by_one_of_the_stacks()
    {
        var exercised = ModelBuilderTests.Stacks.Concat(MoreStacks)
            .SelectMany(row => Types(ExportedModels.Stack((string)row[2])))
            .ToHashSet();

        var missing = LayerCatalog.Instance.Definitions.Select(definition => definition.Type).Except(exercised).ToList();
        Assert.True(missing.Count == 0, $"no stack exports {string.Join(", ", missing)}.");
    }

    [Fact]
    public void The_file_states_its_opset_and_carries_the_classes_the_layers_and_the_preprocessing()
    {
        var stack = ExportedModels.Stack("""[{"type": "linear", "outFeatures": 3}]""");
        var preprocessing = ExportedModels.Standardized([4], 0.1, seed: 1);
        using var model = ExportedModels.Create(_folder, stack, [4], preprocessing, DatasetTask.Classification, ["setosa", "versicolor", "virginica"]);
        var onnx = model.Export(WeightsFormat.Onnx);

        var (irVersion, opsets) = ModelProtoHeader(onnx);
        Assert.Equal(8, irVersion);
        Assert.Equal([("", 17L)], opsets);
        Assert.Equal(17, OnnxExport.Opset);

        var metadata = OnnxRunner.Metadata(onnx);
        Assert.Equal(["setosa", "versicolor", "virginica"], JsonSerializer.Deserialize<string[]>(metadata["classNames"])!);
        Assert.Equal("classification", metadata["task"]);
        Assert.Equal([4], JsonSerializer.Deserialize<int[]>(metadata["inputShape"])!);
        using var published = JsonDocument.Parse(metadata["preprocessing"]);
        Assert.Equal(preprocessing.Mean, published.RootElement.GetProperty("mean").EnumerateArray().Select(v => v.GetSingle()));
        Assert.Equal(preprocessing.Std, published.RootElement.GetProperty("std").EnumerateArray().Select(v => v.GetSingle()));
        Assert.Equal(0.1, published.RootElement.GetProperty("scale").GetDouble());
        using var layers = JsonDocument.Parse(metadata["layers"]);
        Assert.Equal("linear", layers.RootElement[0].GetProperty("type").GetString());
        Assert.Equal(3, layers.RootElement[0].GetProperty("outFeatures").GetInt32());
    }

    [Fact]
    public void A_layer_without_an_onnx_mapping_is_refused_naming_its_index_and_type()
    {
        var stack = ExportedModels.Stack("""[{"type": "linear", "outFeatures": 3}, {"type": "residual", "layers": [{"type": "relu"}, {"type": "tanh"}]}]""");
        using var model = ExportedModels.Create(_folder, stack, [4], Preprocessing.None, DatasetTask.Regression, []);
        // A layer type the catalog may gain later, inside a residual block: the exporter must name it, not write a broken graph.
        var residual = model.Description.Layers[1];
        var inner = JsonSerializer.Deserialize<List<LayerSpec>>(residual.Parameters["layers"].GetRawText())!;
        inner[1] = new LayerSpec("spline");
        var description = model.Description with
        {
            Layers = [model.Description.Layers[0], residual with { Parameters = new Dictionary<string, JsonElement>(residual.Parameters) { ["layers"] = JsonSerializer.SerializeToElement(inner) } }],
        };

        var refused = Assert.Throws<ExportRefusedException>(() => model.Model.Export(new MemoryStream(), WeightsFormat.Onnx, description));

        Assert.Equal("layers[1].layers[1]", refused.Field);
        Assert.Contains("(spline)", refused.Message, StringComparison.Ordinal);
        Assert.Contains("format=pytorch", refused.Message, StringComparison.Ordinal);
    }

    public void Dispose() => _folder.Dispose();

    private static (float[] Values, long[] Shape, string Name) AssertOnnxMatchesPredict(ExportedModel model, float[] samples, string name)
    {
        var expected = model.Predict(samples, Samples);
        var onnx = model.Export(WeightsFormat.Onnx);

        var (values, shape, outputName) = OnnxRunner.Run(onnx, samples, [Samples, .. model.Description.InputShape.Select(d => (long)d)]);

        Assert.Equal(model.Description.Task == DatasetTask.Classification ? OnnxExport.ProbabilitiesName : OnnxExport.PredictionsName, outputName);
        Assert.Equal([Samples, expected[0].Length], shape);
        var flat = expected.SelectMany(row => row).ToArray();
        var difference = flat.Zip(values, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(difference <= Tolerance, $"{name}: ONNX Runtime differs from the service's prediction by up to {difference:G3}.");
        return (values, shape, outputName);
    }

    private static int[] Summarize(IReadOnlyList<LayerSpec?> stack, int[] inputShape)
    {
        var errors = new Experiments.Domain.Validation.ValidationErrors();
        var layers = ModelValidator.Resolve(stack, errors)!;
        return ModelValidator.InferShapes(layers, inputShape, errors)!.OutputShape;
    }

    private static IEnumerable<string> Types(IEnumerable<LayerSpec?> stack) => stack.SelectMany(layer =>
        layer!.Type == "residual" ? [layer.Type, .. Types(ExportedModels.Stack(layer.Parameters["layers"].GetRawText()))] : new[] { layer.Type });

    /// <summary>ModelProto's ir_version (field 1) and opset_import entries (field 8: domain 1, version 2), read from the wire format.</summary>
    private static (long IrVersion, List<(string Domain, long Version)> Opsets) ModelProtoHeader(byte[] model)
    {
        var irVersion = 0L;
        var opsets = new List<(string, long)>();
        foreach (var (field, value, bytes) in Fields(model))
        {
            if (field == 1)
            {
                irVersion = value;
            }
            else if (field == 8)
            {
                var entry = Fields(bytes!).ToList();
                opsets.Add((System.Text.Encoding.UTF8.GetString(entry.Single(f => f.Field == 1).Bytes!), entry.Single(f => f.Field == 2).Value));
            }
        }
        return (irVersion, opsets);
    }

    private static List<(int Field, long Value, byte[]? Bytes)> Fields(byte[] message)
    {
        var position = 0;
        long Varint()
        {
            var (result, shift) = (0L, 0);
            while (true)
            {
                var b = message[position++];
                result |= (long)(b & 0x7f) << shift;
                if (b < 0x80)
                {
                    return result;
                }
                shift += 7;
            }
        }
        var fields = new List<(int Field, long Value, byte[]? Bytes)>();
        while (position < message.Length)
        {
            var tag = Varint();
            switch (tag & 7)
            {
                case 0:
                    fields.Add(((int)(tag >> 3), Varint(), null));
                    break;
                case 2:
                    var length = (int)Varint();
                    fields.Add(((int)(tag >> 3), 0, message[position..(position + length)]));
                    position += length;
                    break;
                case 5:
                    position += 4;
                    break;
                default:
                    throw new InvalidDataException($"wire type {tag & 7} at {position}");
            }
        }
        return fields;
    }
}
