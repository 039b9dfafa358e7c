using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Experiments.Training.Export;

/// <summary>One entry of a state dict: its key, element type, shape and little-endian bytes (row-major, contiguous).</summary>
public sealed record StateTensor(string Name, ScalarType Dtype, long[] Shape, byte[] Data)
{
    public long Elements => Shape.Aggregate(1L, (product, dimension) => product * dimension);

    /// <summary>The values as float32; only for float32 tensors.</summary>
    public float[] Floats()
    {
        if (Dtype != ScalarType.Float32)
        {
            throw new InvalidOperationException($"'{Name}' holds {Dtype}, not float32.");
        }
        var values = new float[Data.Length / sizeof(float)];
        Buffer.BlockCopy(Data, 0, values, 0, Data.Length);
        return values;
    }
}

/// <summary>A module's version as PyTorch's <c>state_dict()</c> records it in <c>_metadata</c>, under its key prefix ("" for the root).</summary>
public sealed record ModuleVersion(string Prefix, int Version);

/// <summary>
/// What <c>model.state_dict()</c> holds in PyTorch: for each module in depth-first order its own parameters,
/// then its persistent buffers, then its children's; and the <c>_metadata</c> of every module's version.
/// TorchSharp's own <c>state_dict()</c> lists every parameter before every buffer, so the order is built here.
/// </summary>
public sealed record StateDict(IReadOnlyList<StateTensor> Tensors, IReadOnlyList<ModuleVersion> Modules)
{
    public static StateDict From(nn.Module module)
    {
        var tensors = new List<StateTensor>();
        var modules = new List<ModuleVersion>();
        Collect(module, "", tensors, modules);
        return new StateDict(tensors, modules);
    }

    public StateTensor this[string name] => Tensors.FirstOrDefault(tensor => tensor.Name == name)
        ?? throw new KeyNotFoundException($"the state dict has no '{name}'; it has {string.Join(", ", Tensors.Select(tensor => tensor.Name))}.");

    public bool Contains(string name) => Tensors.Any(tensor => tensor.Name == name);

    private static void Collect(nn.Module module, string prefix, List<StateTensor> tensors, List<ModuleVersion> modules)
    {
        // PyTorch's _NormBase (BatchNorm*) is at version 2; every other module is at version 1.
        modules.Add(new ModuleVersion(prefix, module is BatchNorm ? 2 : 1));
        var dot = prefix.Length == 0 ? "" : prefix + ".";
        foreach (var (name, parameter) in module.named_parameters(recurse: false))
        {
            tensors.Add(Copy(dot + name, parameter));
        }
        foreach (var (name, buffer) in module.named_buffers(recurse: false, include_nonpersistent: false))
        {
            tensors.Add(Copy(dot + name, buffer));
        }
        foreach (var (name, child) in module.named_children())
        {
            Collect(child, dot + name, tensors, modules);
        }
    }

    private static StateTensor Copy(string name, Tensor tensor)
    {
        using var scope = NewDisposeScope();
        var contiguous = tensor.detach().cpu().contiguous();
        return new StateTensor(name, contiguous.dtype, contiguous.shape, contiguous.bytes.ToArray());
    }
}
