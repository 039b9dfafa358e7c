using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Experiments.Domain.Datasets;
using Experiments.Domain.Models;
using Experiments.Domain.Validation;
using Experiments.Tests.Support;
using Experiments.Training.Export;
using Experiments.Training.Inference;
using Experiments.Training.Layers;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Experiments.Tests.Training.Export;

/// <summary>
/// The .pt file is what <c>torch.save(model.state_dict())</c> writes, checked by a strict reader of the format; the
/// safetensors file carries the classes, the layers and the preprocessing; both load into a fresh TorchSharp module
/// through TorchSharp.PyBridge, a reader written by others.
/// </summary>
[Collection(OneAtATime.Name)]
public sealed class WeightFileTests : IDisposable
{
    private const string BatchNormStack = """
        [{"type": "linear", "outFeatures": 5}, {"type": "batchNorm1d"}, {"type": "relu"},
         {"type": "residual", "layers": [{"type": "linear", "outFeatures": 5}]}, {"type": "linear", "outFeatures": 3}]
        """;

    private readonly TemporaryFolder _folder = new();

    [Fact]
    public void The_pt_file_has_torch_saves_records_in_its_order_stored_and_aligned_to_64_bytes()
    {
        using var model = Model();
        var pt = model.Export(WeightsFormat.PyTorch);

        var records = TorchFileReader.ReadArchive(pt);

        Assert.Equal(
            ["archive/data.pkl", "archive/.format_version", "archive/.storage_alignment", "archive/byteorder",
             .. Enumerable.Range(0, 11).Select(key => $"archive/data/{key}"), "archive/version", "archive/.data/serialization_id"],
            records.Select(record => record.Name));
        Assert.All(records, record => Assert.Equal(0, record.Method));
        Assert.All(records, record => Assert.Equal(0, record.DataOffset % 64));
        var byName = records.ToDictionary(record => record.Name[(record.Name.IndexOf('/', StringComparison.Ordinal) + 1)..], record => Encoding.ASCII.GetString(record.Data));
        Assert.Equal("little", byName["byteorder"]);
        Assert.Equal("3\n", byName["version"]);
        Assert.Equal("1", byName[".format_version"]);
        Assert.Equal("64", byName[".storage_alignment"]);
        Assert.Matches("^[0-9]{40}$", byName[".data/serialization_id"]);
        // The first record's data starts right after its padded header, at 64, as in every torch.save file.
        Assert.Equal(64, records[0].DataOffset);
    }

    [Fact]
    public void The_pickle_is_the_state_dict_in_pytorch_order_with_every_modules_version()
    {
        using var model = Model();
        var expected = StateDictOf(model);

        var (tensors, metadata) = TorchFileReader.ReadStateDict(model.Export(WeightsFormat.PyTorch));

        // PyTorch's order: each module's parameters, then its buffers, then its children's.
        Assert.Equal(
            ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked",
             "3.layers.0.weight", "3.layers.0.bias", "4.weight", "4.bias"],
            tensors.Select(tensor => tensor.Key));
        foreach (var (key, tensor) in tensors)
        {
            var original = expected.Tensors.Single(t => t.Name == key);
            Assert.Equal(original.Shape, tensor.Shape);
            Assert.Equal(original.Data, tensor.Data);
            Assert.Equal(0, tensor.StorageOffset);
            Assert.False(tensor.RequiresGrad);
            Assert.Equal(key.EndsWith("num_batches_tracked", StringComparison.Ordinal) ? "torch.LongStorage" : "torch.FloatStorage", tensor.Storage);
        }
        Assert.Equal([5L, 1], tensors.Single(t => t.Key == "4.weight").Tensor.Stride);
        Assert.Equal([("", 1L), ("0", 1), ("1", 2), ("2", 1), ("3", 1), ("3.layers", 1), ("3.layers.0", 1), ("4", 1)], metadata);
    }

    [Fact]
    public void The_pickle_is_byte_for_byte_what_cpythons_pickler_writes_for_torch_save()
    {
        // The model of Fixtures/make_state_dict_pickle.py: 13 modules and 17 storages (two-digit keys, BININT2 and BININT
        // sizes, 4-D shapes, 0-d LongStorage counters, a nested residual block).
        var tensors = new List<StateTensor>();
        void Add(string name, long[] shape, ScalarType type = ScalarType.Float32) =>
            tensors.Add(new StateTensor(name, type, shape, new byte[shape.Aggregate(1L, (p, d) => p * d) * (type == ScalarType.Int64 ? 8 : 4)]));
        void BatchNorm(string prefix)
        {
            foreach (var name in new[] { "weight", "bias", "running_mean", "running_var" })
            {
                Add(prefix + name, [4]);
            }
            Add(prefix + "num_batches_tracked", [], ScalarType.Int64);
        }
        Add("0.weight", [4, 1, 3, 3]);
        Add("0.bias", [4]);
        BatchNorm("1.");
        Add("3.layers.0.weight", [4, 4, 3, 3]);
        BatchNorm("3.layers.1.");
        Add("6.weight", [300, 400]);
        Add("6.bias", [300]);
        Add("8.weight", [3, 300]);
        Add("8.bias", [3]);
        ModuleVersion[] modules =
        [
            new("", 1), new("0", 1), new("1", 2), new("2", 1), new("3", 1), new("3.layers", 1), new("3.layers.0", 1), new("3.layers.1", 2),
            new("4", 1), new("5", 1), new("6", 1), new("7", 1), new("8", 1),
        ];
        using var buffer = new MemoryStream();
        TorchSave.Write(buffer, new StateDict(tensors, modules));

        var pickle = TorchFileReader.ReadArchive(buffer.ToArray()).Single(record => record.Name == "archive/data.pkl").Data;

        Assert.Equal(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Training", "Export", "Fixtures", "state-dict-protocol2.pkl")), pickle);
    }

    [Fact]
    public void The_pt_and_safetensors_files_load_into_a_fresh_torchsharp_module()
    {
        using var model = Model();
        var expected = StateDictOf(model);

        foreach (var format in new[] { WeightsFormat.PyTorch, WeightsFormat.Safetensors })
        {
            using var fresh = Build(seed: 99);
            Assert.NotEqual(expected.Tensors[0].Data, StateDict.From(fresh).Tensors[0].Data);
            using var file = new MemoryStream(model.Export(format));
            if (format == WeightsFormat.PyTorch)
            {
                fresh.load_py(file, strict: true);
            }
            else
            {
                fresh.load_safetensors(file, strict: true);
            }
            Assert.Equal(expected.Tensors.Select(t => t.Data), StateDict.From(fresh).Tensors.Select(t => t.Data));
        }
    }

    [Fact]
    public void The_safetensors_header_carries_the_classes_the_layers_and_the_preprocessing_and_aligns_the_data()
    {
        using var model = Model();
        var file = model.Export(WeightsFormat.Safetensors);

        var headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(file);
        Assert.Equal(0, headerLength % 8);
        using var header = JsonDocument.Parse(Encoding.UTF8.GetString(file, 8, headerLength));
        var metadata = header.RootElement.GetProperty("__metadata__");
        Assert.Equal("pt", metadata.GetProperty("format").GetString());
        Assert.Equal("classification", metadata.GetProperty("task").GetString());
        Assert.Equal(["a", "b", "c"], JsonSerializer.Deserialize<string[]>(metadata.GetProperty("classNames").GetString()!)!);
        Assert.Equal([4], JsonSerializer.Deserialize<int[]>(metadata.GetProperty("inputShape").GetString()!)!);
        using var layers = JsonDocument.Parse(metadata.GetProperty("layers").GetString()!);
        Assert.Equal(["linear", "batchNorm1d", "relu", "residual", "linear"], layers.RootElement.EnumerateArray().Select(layer => layer.GetProperty("type").GetString()));
        using var preprocessing = JsonDocument.Parse(metadata.GetProperty("preprocessing").GetString()!);
        Assert.True(preprocessing.RootElement.GetProperty("standardize").GetBoolean());
        Assert.Equal(model.Description.Preprocessing.Mean, preprocessing.RootElement.GetProperty("mean").EnumerateArray().Select(v => v.GetSingle()));

        var tensors = header.RootElement.EnumerateObject().Where(p => p.Name != "__metadata__").ToList();
        Assert.Equal(11, tensors.Count);
        var end = 0L;
        foreach (var tensor in tensors)
        {
            var offsets = tensor.Value.GetProperty("data_offsets").EnumerateArray().Select(o => o.GetInt64()).ToArray();
            var size = tensor.Value.GetProperty("dtype").GetString() == "I64" ? 8 : 4;
            Assert.Equal(end, offsets[0]);
            Assert.Equal(0, (8 + headerLength + offsets[0]) % size);
            end = offsets[1];
        }
        Assert.Equal(file.Length, 8 + headerLength + end);
    }

    public void Dispose() => _folder.Dispose();

    private ExportedModel Model() => ExportedModels.Create(_folder, ExportedModels.Stack(BatchNormStack), [4],
        ExportedModels.Standardized([4], 1, seed: 1), DatasetTask.Classification, ["a", "b", "c"], seed: 3);

    private static StateDict StateDictOf(ExportedModel model)
    {
        using var module = Build(seed: 3);
        using var buffer = new MemoryStream(model.Export(WeightsFormat.TorchSharp));
        module.load(buffer);
        return StateDict.From(module);
    }

    private static nn.Module<Tensor, Tensor> Build(long seed)
    {
        var errors = new ValidationErrors();
        var layers = ModelValidator.Resolve(ExportedModels.Stack(BatchNormStack), errors)!;
        torch.manual_seed(seed);
        return ModelBuilder.Build(layers, ModelValidator.InferShapes(layers, [4], errors)!);
    }
}
