using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace Experiments.Tests.Support;

/// <summary>One tensor of a state dict read back from a .pt file.</summary>
public sealed record LoadedTensor(string Storage, long[] Shape, long[] Stride, long StorageOffset, bool RequiresGrad, byte[] Data)
{
    public float[] Floats()
    {
        var values = new float[Data.Length / sizeof(float)];
        Buffer.BlockCopy(Data, 0, values, 0, Data.Length);
        return values;
    }
}

/// <summary>A zip entry as the strict reader found it.</summary>
public sealed record ZipRecord(string Name, ushort Method, ushort Flags, long DataOffset, byte[] Data);

/// <summary>
/// A strict reader of <c>torch.save</c> archives, written from the format rather than from the writer: it walks the
/// end records (the ZIP64 end record and locator must be there), the central directory and every local header, and
/// refuses anything <c>torch.load(mmap=True)</c> could not map: a compressed entry, data not aligned to 64 bytes, a
/// local header that disagrees with the central directory, a missing data descriptor or a wrong CRC. <c>data.pkl</c>
/// is read by a pickle machine that knows only the opcodes and globals of torch's weights-only unpickler for a state
/// dict (torch/_weights_only_unpickler.py), and only protocol 2.
/// </summary>
public static class TorchFileReader
{
    public static IReadOnlyList<ZipRecord> ReadArchive(byte[] file)
    {
        var end = file.Length - 22;
        Assert.Equal(0x06054b50u, BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(end)));
        var locator = end - 20;
        Assert.Equal(0x07064b50u, BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(locator)));
        var zip64End = (int)BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(locator + 8));
        Assert.Equal(0x06064b50u, BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(zip64End)));
        var count = (int)BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(zip64End + 32));
        var centralSize = (int)BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(zip64End + 40));
        var central = (int)BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(zip64End + 48));
        Assert.Equal(count, BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(end + 10)));
        Assert.Equal(central, (int)BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(end + 16)));
        Assert.Equal(zip64End, central + centralSize);

        var records = new List<ZipRecord>();
        var position = central;
        for (var i = 0; i < count; i++)
        {
            var entry = file.AsSpan(position);
            Assert.Equal(0x02014b50u, BinaryPrimitives.ReadUInt32LittleEndian(entry));
            var flags = BinaryPrimitives.ReadUInt16LittleEndian(entry[8..]);
            var method = BinaryPrimitives.ReadUInt16LittleEndian(entry[10..]);
            var crc = BinaryPrimitives.ReadUInt32LittleEndian(entry[16..]);
            var compressed = BinaryPrimitives.ReadUInt32LittleEndian(entry[20..]);
            var size = BinaryPrimitives.ReadUInt32LittleEndian(entry[24..]);
            var nameLength = BinaryPrimitives.ReadUInt16LittleEndian(entry[28..]);
            var extraLength = BinaryPrimitives.ReadUInt16LittleEndian(entry[30..]);
            var commentLength = BinaryPrimitives.ReadUInt16LittleEndian(entry[32..]);
            var local = (int)BinaryPrimitives.ReadUInt32LittleEndian(entry[42..]);
            var name = Encoding.UTF8.GetString(entry.Slice(46, nameLength));
            position += 46 + nameLength + extraLength + commentLength;

            Assert.True(method == 0, $"{name} is compressed with method {method}; torch.save stores every record.");
            Assert.Equal(compressed, size);
            var header = file.AsSpan(local);
            Assert.Equal(0x04034b50u, BinaryPrimitives.ReadUInt32LittleEndian(header));
            Assert.Equal(method, BinaryPrimitives.ReadUInt16LittleEndian(header[8..]));
            Assert.Equal(flags, BinaryPrimitives.ReadUInt16LittleEndian(header[6..]));
            var localName = BinaryPrimitives.ReadUInt16LittleEndian(header[26..]);
            var localExtra = BinaryPrimitives.ReadUInt16LittleEndian(header[28..]);
            Assert.Equal(name, Encoding.UTF8.GetString(header.Slice(30, localName)));
            var dataOffset = local + 30 + localName + localExtra;
            Assert.True(dataOffset % 64 == 0, $"{name}'s data starts at {dataOffset}, not a multiple of 64.");
            var data = file.AsSpan(dataOffset, (int)size).ToArray();
            Assert.Equal(crc, Crc32.HashToUInt32(data));
            if (size > 0)
            {
                Assert.True((flags & 8) != 0, $"{name} has no data descriptor flag.");
                var descriptor = file.AsSpan(dataOffset + (int)size);
                Assert.Equal(0x08074b50u, BinaryPrimitives.ReadUInt32LittleEndian(descriptor));
                Assert.Equal(crc, BinaryPrimitives.ReadUInt32LittleEndian(descriptor[4..]));
                Assert.Equal(size, BinaryPrimitives.ReadUInt32LittleEndian(descriptor[12..]));
            }
            records.Add(new ZipRecord(name, method, flags, dataOffset, data));
        }
        Assert.Equal(zip64End, position);
        return records;
    }

    /// <summary>The state dict in the archive's order, and its <c>_metadata</c> (module prefix → version).</summary>
    public static (List<(string Key, LoadedTensor Tensor)> Tensors, List<(string Prefix, long Version)> Metadata) ReadStateDict(byte[] file)
    {
        var records = ReadArchive(file);
        var folder = records[0].Name[..(records[0].Name.IndexOf('/', StringComparison.Ordinal) + 1)];
        var byName = records.ToDictionary(record => record.Name[folder.Length..], record => record.Data);
        var result = new Pickle(byName["data.pkl"], key => byName[$"data/{key}"]).Run();
        var dict = Assert.IsType<OrderedDict>(result);
        var tensors = dict.Items.Select(item => (Assert.IsType<string>(item.Key), Assert.IsType<LoadedTensor>(item.Value))).ToList();
        var state = Assert.IsType<OrderedDict>(dict.State!.Items.Single(item => (string)item.Key == "_metadata").Value);
        var metadata = state.Items.Select(item => ((string)item.Key, (long)Assert.IsType<OrderedDict>(item.Value).Items.Single(v => (string)v.Key == "version").Value!)).ToList();
        return (tensors, metadata);
    }

    private sealed class OrderedDict
    {
        public List<(object Key, object? Value)> Items { get; } = [];

        public OrderedDict? State { get; set; }
    }

    private sealed record GlobalRef(string Name);

    private sealed class Pickle(byte[] bytes, Func<string, byte[]> storage)
    {
        private static readonly HashSet<string> Allowed =
        [
            "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch.FloatStorage", "torch.LongStorage",
            "torch.DoubleStorage", "torch.IntStorage", "torch.HalfStorage", "torch.BFloat16Storage", "torch.BoolStorage",
        ];

        private readonly List<object?> _stack = [];
        private readonly Stack<int> _marks = new();
        private readonly Dictionary<long, object?> _memo = [];
        private int _position;

        public object? Run()
        {
            Assert.Equal(0x80, bytes[_position++]);
            Assert.Equal(2, bytes[_position++]);
            while (true)
            {
                var opcode = bytes[_position++];
                switch (opcode)
                {
                    case (byte)'.': return Pop();
                    case (byte)'(': _marks.Push(_stack.Count); break;
                    case (byte)'c':
                        {
                            var name = $"{Line()}.{Line()}";
                            Assert.True(Allowed.Contains(name), $"data.pkl names the global {name}, which torch's weights-only unpickler refuses.");
                            Push(new GlobalRef(name));
                            break;
                        }
                    case (byte)'q': _memo[bytes[_position++]] = Peek(); break;
                    case (byte)'r': _memo[BinaryPrimitives.ReadUInt32LittleEndian(Take(4))] = Peek(); break;
                    case (byte)'h': Push(_memo[bytes[_position++]]); break;
                    case (byte)'j': Push(_memo[BinaryPrimitives.ReadUInt32LittleEndian(Take(4))]); break;
                    case (byte)'K': Push((long)bytes[_position++]); break;
                    case (byte)'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2))); break;
                    case (byte)'J': Push((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4))); break;
                    case 0x8a: Push((long)new System.Numerics.BigInteger(Take(bytes[_position++]), isUnsigned: false)); break;
                    case (byte)'X': Push(Encoding.UTF8.GetString(Take((int)BinaryPrimitives.ReadUInt32LittleEndian(Take(4))))); break;
                    case 0x88: Push(true); break;
                    case 0x89: Push(false); break;
                    case (byte)')': Push(Array.Empty<object?>()); break;
                    case 0x85: Push(new[] { Pop() }); break;
                    case 0x86: { var b = Pop(); var a = Pop(); Push(new[] { a, b }); break; }
                    case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); Push(new[] { a, b, c }); break; }
                    case (byte)'t': Push(PopMark().ToArray()); break;
                    case (byte)'}': Push(new OrderedDict()); break;
                    case (byte)'s': { var value = Pop(); var key = Pop()!; ((OrderedDict)Peek()!).Items.Add((key, value)); break; }
                    case (byte)'u':
                        {
                            var items = PopMark();
                            var dict = (OrderedDict)Peek()!;
                            for (var i = 0; i < items.Count; i += 2)
                            {
                                dict.Items.Add((items[i]!, items[i + 1]));
                            }
                            break;
                        }
                    case (byte)'Q': Push(Storage((object?[])Pop()!)); break;
                    case (byte)'R': { var arguments = (object?[])Pop()!; Push(Call((GlobalRef)Pop()!, arguments)); break; }
                    case (byte)'b': { var state = (OrderedDict)Pop()!; ((OrderedDict)Peek()!).State = state; break; }
                    default: throw new InvalidDataException($"data.pkl has opcode 0x{opcode:X2} at {_position - 1}, which a torch.save state dict does not use.");
                }
            }
        }

        private (string Storage, byte[] Data) Storage(object?[] id)
        {
            Assert.Equal("storage", id[0]);
            var type = Assert.IsType<GlobalRef>(id[1]).Name;
            Assert.Equal("cpu", id[3]);
            var data = storage((string)id[2]!);
            var elementSize = type switch { "torch.LongStorage" or "torch.DoubleStorage" => 8, "torch.HalfStorage" or "torch.BFloat16Storage" => 2, "torch.BoolStorage" => 1, _ => 4 };
            Assert.Equal((long)id[4]! * elementSize, data.Length);
            return (type, data);
        }

        private static object Call(GlobalRef function, object?[] arguments)
        {
            switch (function.Name)
            {
                case "collections.OrderedDict":
                    Assert.Empty(arguments);
                    return new OrderedDict();
                case "torch._utils._rebuild_tensor_v2":
                    {
                        Assert.Equal(6, arguments.Length);
                        var (type, data) = ((string, byte[]))arguments[0]!;
                        var hooks = Assert.IsType<OrderedDict>(arguments[5]);
                        Assert.Empty(hooks.Items);
                        return new LoadedTensor(type, Longs(arguments[2]), Longs(arguments[3]), (long)arguments[1]!, (bool)arguments[4]!, data);
                    }
                default:
                    throw new InvalidDataException($"data.pkl calls {function.Name}.");
            }
        }

        private static long[] Longs(object? tuple) => ((object?[])tuple!).Select(value => (long)value!).ToArray();

        private string Line()
        {
            var end = Array.IndexOf(bytes, (byte)'\n', _position);
            var text = Encoding.ASCII.GetString(bytes, _position, end - _position);
            _position = end + 1;
            return text;
        }

        private byte[] Take(int count)
        {
            var taken = bytes.AsSpan(_position, count).ToArray();
            _position += count;
            return taken;
        }

        private void Push(object? value) => _stack.Add(value);

        private object? Peek() => _stack[^1];

        private object? Pop()
        {
            var value = _stack[^1];
            _stack.RemoveAt(_stack.Count - 1);
            return value;
        }

        private List<object?> PopMark()
        {
            var start = _marks.Pop();
            var items = _stack.GetRange(start, _stack.Count - start);
            _stack.RemoveRange(start, _stack.Count - start);
            return items;
        }
    }
}
