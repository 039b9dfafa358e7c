using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace Experiments.Training.Export;

/// <summary>
/// The <c>data.pkl</c> of <c>torch.save(model.state_dict())</c>: pickle protocol 2 (torch's DEFAULT_PROTOCOL) of an
/// <c>collections.OrderedDict</c> whose values are <c>torch._utils._rebuild_tensor_v2(storage, 0, size, stride, False,
/// OrderedDict())</c>, each storage a persistent id <c>('storage', torch.FloatStorage, key, 'cpu', numel)</c> naming the
/// record <c>data/{key}</c>, and the dict's <c>_metadata</c> (every module's version) set by BUILD. The bytes are the
/// ones CPython's pickler writes for those objects: it memoizes by identity, so a global and the literals
/// <c>'storage'</c>, <c>'cpu'</c> and <c>'version'</c> (one object each in torch) are fetched from the memo when they
/// come again, while every key, prefix and storage key is a string of its own and written out, even when its text
/// repeats (storage key "0" and module prefix "0"). A test compares with CPython's own output.
/// </summary>
internal sealed class StateDictPickle
{
    private const byte Mark = (byte)'(';
    private const byte Stop = (byte)'.';
    private const byte BinInt = (byte)'J';
    private const byte BinInt1 = (byte)'K';
    private const byte BinInt2 = (byte)'M';
    private const byte Long1 = 0x8a;
    private const byte BinUnicode = (byte)'X';
    private const byte Global = (byte)'c';
    private const byte Reduce = (byte)'R';
    private const byte Build = (byte)'b';
    private const byte Tuple = (byte)'t';
    private const byte EmptyTuple = (byte)')';
    private const byte EmptyDict = (byte)'}';
    private const byte SetItem = (byte)'s';
    private const byte SetItems = (byte)'u';
    private const byte BinPersId = (byte)'Q';
    private const byte NewFalse = 0x89;
    private const byte BinGet = (byte)'h';
    private const byte LongBinGet = (byte)'j';
    private const byte BinPut = (byte)'q';
    private const byte LongBinPut = (byte)'r';
    private const int BatchSize = 1000; // pickle.Pickler._BATCHSIZE: SETITEMS carry at most this many pairs

    private static readonly byte[] SmallTuples = [0, 0x85, 0x86, 0x87]; // TUPLE1, TUPLE2, TUPLE3

    private readonly ArrayBufferWriter<byte> _output = new();
    private static readonly HashSet<string> SharedStrings = new(StringComparer.Ordinal) { "storage", "cpu", "version" };

    private readonly Dictionary<string, int> _memo = new(StringComparer.Ordinal);
    private int _nextMemo;

    private StateDictPickle()
    {
    }

    /// <summary>The pickle; tensor i's storage key is <c>i</c> (its record is <c>data/i</c>).</summary>
    public static byte[] Write(StateDict stateDict)
    {
        var pickle = new StateDictPickle();
        pickle.WriteByte(0x80); // PROTO 2
        pickle.WriteByte(2);
        pickle.OrderedDict(stateDict.Tensors.Select((tensor, key) => ((Action)(() => pickle.Tensor(tensor, key)), tensor.Name)).ToList());
        pickle.Metadata(stateDict.Modules);
        pickle.WriteByte(Stop);
        return pickle._output.WrittenSpan.ToArray();
    }

    private void WriteByte(byte value)
    {
        _output.GetSpan(1)[0] = value;
        _output.Advance(1);
    }

    private void OrderedDict(IReadOnlyList<(Action WriteValue, string Key)> items)
    {
        GlobalName("collections", "OrderedDict");
        WriteByte(EmptyTuple);
        WriteByte(Reduce);
        Memoize();
        for (var start = 0; start < items.Count; start += BatchSize)
        {
            var batch = items.Skip(start).Take(BatchSize).ToList();
            if (batch.Count > 1)
            {
                WriteByte(Mark);
            }
            foreach (var (writeValue, key) in batch)
            {
                String(key);
                writeValue();
            }
            WriteByte(batch.Count > 1 ? SetItems : SetItem);
        }
    }

    /// <summary><c>state_dict._metadata</c>: an OrderedDict of prefix → <c>{'version': n}</c>, the OrderedDict's state.</summary>
    private void Metadata(IReadOnlyList<ModuleVersion> modules)
    {
        WriteByte(EmptyDict);
        Memoize();
        String("_metadata");
        OrderedDict(modules.Select(module => ((Action)(() => VersionDict(module.Version)), module.Prefix)).ToList());
        WriteByte(SetItem);
        WriteByte(Build);
    }

    private void VersionDict(int version)
    {
        WriteByte(EmptyDict);
        Memoize();
        String("version");
        Integer(version);
        WriteByte(SetItem);
    }

    private void Tensor(StateTensor tensor, int key)
    {
        GlobalName("torch._utils", "_rebuild_tensor_v2");
        WriteByte(Mark);
        // The storage, as torch.save's persistent_id names it.
        WriteByte(Mark);
        String("storage");
        GlobalName("torch", ElementTypes.TorchStorage(tensor.Dtype));
        String(key.ToString(System.Globalization.CultureInfo.InvariantCulture));
        String("cpu");
        Integer(tensor.Elements);
        WriteByte(Tuple);
        Memoize();
        WriteByte(BinPersId);
        Integer(0); // storage_offset
        IntegerTuple(tensor.Shape);
        IntegerTuple(ContiguousStrides(tensor.Shape));
        WriteByte(NewFalse); // requires_grad: state_dict() detaches
        GlobalName("collections", "OrderedDict"); // backward_hooks: an empty OrderedDict
        WriteByte(EmptyTuple);
        WriteByte(Reduce);
        Memoize();
        WriteByte(Tuple);
        Memoize();
        WriteByte(Reduce);
        Memoize();
    }

    private static long[] ContiguousStrides(long[] shape)
    {
        var strides = new long[shape.Length];
        var stride = 1L;
        for (var i = shape.Length - 1; i >= 0; i--)
        {
            strides[i] = stride;
            stride *= shape[i];
        }
        return strides;
    }

    private void IntegerTuple(long[] values)
    {
        if (values.Length == 0)
        {
            WriteByte(EmptyTuple); // CPython does not memoize the empty tuple
            return;
        }
        if (values.Length > 3)
        {
            WriteByte(Mark);
        }
        foreach (var value in values)
        {
            Integer(value);
        }
        WriteByte(values.Length > 3 ? Tuple : SmallTuples[values.Length]);
        Memoize();
    }

    private void Integer(long value)
    {
        Span<byte> bytes = stackalloc byte[4];
        switch (value)
        {
            case >= 0 and <= 0xff:
                WriteByte(BinInt1);
                WriteByte((byte)value);
                break;
            case >= 0 and <= 0xffff:
                WriteByte(BinInt2);
                BinaryPrimitives.WriteUInt16LittleEndian(bytes, (ushort)value);
                _output.Write(bytes[..2]);
                break;
            case >= int.MinValue and <= int.MaxValue:
                WriteByte(BinInt);
                BinaryPrimitives.WriteInt32LittleEndian(bytes, (int)value);
                _output.Write(bytes);
                break;
            default:
                // LONG1: the shortest little-endian two's complement, as pickle.encode_long writes it.
                var encoded = new BigInteger(value).ToByteArray(isUnsigned: false, isBigEndian: false);
                WriteByte(Long1);
                WriteByte((byte)encoded.Length);
                _output.Write(encoded);
                break;
        }
    }

    private void String(string value)
    {
        var shared = SharedStrings.Contains(value);
        if (shared && FromMemo("str:" + value))
        {
            return;
        }
        var encoded = Encoding.UTF8.GetBytes(value);
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)encoded.Length);
        WriteByte(BinUnicode);
        _output.Write(length);
        _output.Write(encoded);
        Memoize(shared ? "str:" + value : null);
    }

    private void GlobalName(string module, string name)
    {
        if (FromMemo($"global:{module}.{name}"))
        {
            return;
        }
        WriteByte(Global);
        _output.Write(Encoding.ASCII.GetBytes($"{module}\n{name}\n"));
        Memoize($"global:{module}.{name}");
    }

    private bool FromMemo(string key)
    {
        if (!_memo.TryGetValue(key, out var index))
        {
            return false;
        }
        if (index < 256)
        {
            WriteByte(BinGet);
            WriteByte((byte)index);
        }
        else
        {
            Span<byte> bytes = stackalloc byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(bytes, index);
            WriteByte(LongBinGet);
            _output.Write(bytes);
        }
        return true;
    }

    /// <summary>Stores the object on top of the stack in the next memo slot, as CPython's pickler does for every non-empty container, string and global.</summary>
    private void Memoize(string? key = null)
    {
        var index = _nextMemo++;
        if (key is not null)
        {
            _memo[key] = index;
        }
        if (index < 256)
        {
            WriteByte(BinPut);
            WriteByte((byte)index);
        }
        else
        {
            Span<byte> bytes = stackalloc byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(bytes, index);
            WriteByte(LongBinPut);
            _output.Write(bytes);
        }
    }
}
