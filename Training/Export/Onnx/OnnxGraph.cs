using System.Runtime.InteropServices;

namespace Experiments.Training.Export.Onnx;

/// <summary>An attribute of an ONNX node: exactly one of an int, a float, a string, ints or floats.</summary>
internal sealed record OnnxAttribute(string Name, long? Int = null, float? Float = null, string? Text = null, long[]? Ints = null)
{
    public static OnnxAttribute Of(string name, long value) => new(name, Int: value);

    public static OnnxAttribute Of(string name, float value) => new(name, Float: value);

    public static OnnxAttribute Of(string name, string value) => new(name, Text: value);

    public static OnnxAttribute Of(string name, long[] values) => new(name, Ints: values);
}

/// <summary>
/// An ONNX model under construction: nodes in topological order, initializers, one float32 input and one float32
/// output with a symbolic batch dimension. <see cref="Write"/> serializes the ModelProto (IR version
/// <see cref="IrVersion"/>, default domain at opset <see cref="Opset"/>) with the field numbers of onnx/onnx.proto.
/// </summary>
internal sealed class OnnxGraph
{
    /// <summary>The opset every node is written for: ONNX 1.12's, which ONNX Runtime 1.13 and later run.</summary>
    public const int Opset = 17;

    /// <summary>The IR version that goes with opset 17.</summary>
    public const int IrVersion = 8;

    private const int FloatType = 1;
    private const int Int64Type = 7;

    private readonly List<(string Op, string Name, string[] Inputs, string[] Outputs, OnnxAttribute[] Attributes)> _nodes = [];
    private readonly List<(string Name, long[] Dims, int Type, byte[] Data)> _initializers = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    /// <summary>Adds a node with one output, named after <paramref name="name"/>; returns the output's name.</summary>
    public string Node(string op, string name, string[] inputs, params OnnxAttribute[] attributes)
    {
        var output = Unique(name);
        _nodes.Add((op, output, inputs, [output], attributes));
        return output;
    }

    /// <summary>A float32 constant; returns its name.</summary>
    public string Constant(string name, long[] dims, ReadOnlySpan<float> values) =>
        Initializer(name, dims, FloatType, MemoryMarshal.AsBytes(values).ToArray());

    /// <summary>An int64 constant (shapes, indices); returns its name.</summary>
    public string Constant(string name, long[] dims, ReadOnlySpan<long> values) =>
        Initializer(name, dims, Int64Type, MemoryMarshal.AsBytes(values).ToArray());

    public string Scalar(string name, float value) => Constant(name, [], [value]);

    public void Write(Stream destination, string graphName, string docString, (string Name, long[] SampleShape) input,
        (string Name, long[] SampleShape) output, IReadOnlyDictionary<string, string> metadata)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("ONNX raw_data is little-endian; this writer copies memory as it lies.");
        }
        var model = new ProtoWriter()
            .Int(1, IrVersion)
            .String(2, "Experiments")
            .String(3, typeof(OnnxGraph).Assembly.GetName().Version?.ToString() ?? "0")
            .String(6, docString)
            .Message(7, graph =>
            {
                foreach (var (op, name, inputs, outputs, attributes) in _nodes)
                {
                    graph.Message(1, node => WriteNode(node, op, name, inputs, outputs, attributes));
                }
                graph.String(2, graphName);
                foreach (var (name, dims, type, data) in _initializers)
                {
                    graph.Message(5, tensor =>
                    {
                        foreach (var dim in dims)
                        {
                            tensor.Int(1, dim);
                        }
                        tensor.Int(2, type).String(8, name).Bytes(9, data);
                    });
                }
                graph.Message(11, value => WriteValueInfo(value, input.Name, input.SampleShape));
                graph.Message(12, value => WriteValueInfo(value, output.Name, output.SampleShape));
            })
            .Message(8, opset => opset.String(1, "").Int(2, Opset));
        foreach (var (key, value) in metadata)
        {
            model.Message(14, entry => entry.String(1, key).String(2, value));
        }
        model.CopyTo(destination);
    }

    private string Initializer(string name, long[] dims, int type, byte[] data)
    {
        var unique = Unique(name);
        _initializers.Add((unique, dims, type, data));
        return unique;
    }

    private string Unique(string name)
    {
        var candidate = name;
        for (var n = 1; !_names.Add(candidate); n++)
        {
            candidate = $"{name}_{n}";
        }
        return candidate;
    }

    private static void WriteNode(ProtoWriter node, string op, string name, string[] inputs, string[] outputs, OnnxAttribute[] attributes)
    {
        foreach (var input in inputs)
        {
            node.String(1, input);
        }
        foreach (var output in outputs)
        {
            node.String(2, output);
        }
        node.String(3, name).String(4, op);
        foreach (var attribute in attributes)
        {
            node.Message(5, proto =>
            {
                proto.String(1, attribute.Name);
                // AttributeProto.type (field 20): FLOAT 1, INT 2, STRING 3, INTS 7.
                if (attribute.Float is { } f)
                {
                    proto.Float(2, f).Int(20, 1);
                }
                else if (attribute.Int is { } i)
                {
                    proto.Int(3, i).Int(20, 2);
                }
                else if (attribute.Text is { } s)
                {
                    proto.String(4, s).Int(20, 3);
                }
                else
                {
                    foreach (var value in attribute.Ints!)
                    {
                        proto.Int(8, value);
                    }
                    proto.Int(20, 7);
                }
            });
        }
    }

    /// <summary>A float32 tensor of shape [batch, ...sampleShape], the batch symbolic.</summary>
    private static void WriteValueInfo(ProtoWriter value, string name, long[] sampleShape)
    {
        value.String(1, name).Message(2, type => type.Message(1, tensor => tensor
            .Int(1, FloatType)
            .Message(2, shape =>
            {
                shape.Message(1, dim => dim.String(2, "batch"));
                foreach (var size in sampleShape)
                {
                    shape.Message(1, dim => dim.Int(1, size));
                }
            })));
    }
}
