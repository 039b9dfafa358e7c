using static TorchSharp.torch;

namespace Experiments.Training.Export;

/// <summary>How each element type a state dict may hold is named by PyTorch's pickles and by safetensors.</summary>
internal static class ElementTypes
{
    private static readonly Dictionary<ScalarType, (string Storage, string Safetensors)> Names = new()
    {
        [ScalarType.Float32] = ("FloatStorage", "F32"),
        [ScalarType.Float64] = ("DoubleStorage", "F64"),
        [ScalarType.Float16] = ("HalfStorage", "F16"),
        [ScalarType.BFloat16] = ("BFloat16Storage", "BF16"),
        [ScalarType.Int64] = ("LongStorage", "I64"),
        [ScalarType.Int32] = ("IntStorage", "I32"),
        [ScalarType.Int16] = ("ShortStorage", "I16"),
        [ScalarType.Int8] = ("CharStorage", "I8"),
        [ScalarType.Byte] = ("ByteStorage", "U8"),
        [ScalarType.Bool] = ("BoolStorage", "BOOL"),
    };

    /// <summary>The legacy storage class <c>torch.save</c> pickles for the type, e.g. <c>FloatStorage</c>.</summary>
    public static string TorchStorage(ScalarType type) => Find(type).Storage;

    public static string Safetensors(ScalarType type) => Find(type).Safetensors;

    private static (string Storage, string Safetensors) Find(ScalarType type) => Names.TryGetValue(type, out var names)
        ? names
        : throw new NotSupportedException($"tensors of {type} are not exported.");
}
