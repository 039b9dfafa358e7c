using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace Experiments.Training.Export;

/// <summary>
/// Writes a safetensors file: an 8-byte little-endian header length, a JSON header (<c>__metadata__</c>, a map of
/// strings, then per tensor its dtype, shape and byte range), padded with spaces to a multiple of 8 bytes as the
/// reference serializer pads it, then the tensors' bytes back to back. Tensors are laid out widest element first (as
/// the reference serializer orders them), so that every tensor starts aligned to its element size.
/// </summary>
public static class SafetensorsWriter
{
    public static void Write(Stream destination, StateDict stateDict, IReadOnlyDictionary<string, string> metadata)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("safetensors data is little-endian; this writer copies memory as it lies.");
        }
        var ordered = stateDict.Tensors.OrderByDescending(tensor => tensor.Elements == 0 ? 0 : tensor.Data.Length / tensor.Elements).ToList();
        using var header = new MemoryStream();
        using (var json = new Utf8JsonWriter(header))
        {
            json.WriteStartObject();
            json.WriteStartObject("__metadata__");
            foreach (var (key, value) in metadata)
            {
                json.WriteString(key, value);
            }
            json.WriteEndObject();
            var offset = 0L;
            foreach (var tensor in ordered)
            {
                json.WriteStartObject(tensor.Name);
                json.WriteString("dtype", ElementTypes.Safetensors(tensor.Dtype));
                json.WriteStartArray("shape");
                foreach (var dimension in tensor.Shape)
                {
                    json.WriteNumberValue(dimension);
                }
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + tensor.Data.Length);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += tensor.Data.Length;
            }
            json.WriteEndObject();
        }
        var padding = (int)((8 - header.Length % 8) % 8);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)(header.Length + padding));
        destination.Write(length);
        destination.Write(header.GetBuffer().AsSpan(0, (int)header.Length));
        destination.Write(Encoding.ASCII.GetBytes(new string(' ', padding)));
        foreach (var tensor in ordered)
        {
            destination.Write(tensor.Data);
        }
    }
}
