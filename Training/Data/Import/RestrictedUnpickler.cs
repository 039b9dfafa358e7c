using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace Experiments.Training.Data.Import;

/// <summary>
/// Reads a Python pickle (protocols 2 to 5) without executing or constructing anything outside an allow-list:
/// dicts, lists, tuples, sets, numbers, strings, bytes, and NumPy arrays, dtypes and scalars. A pickle
/// naming any other global (<c>os.system</c>, <c>builtins.eval</c>, a class of its own) is refused at the
/// opcode that names it, before anything uses it.
/// </summary>
/// <remarks>
/// Python objects become: dict → <see cref="Dictionary{TKey,TValue}"/>, list → <see cref="List{T}"/>, tuple →
/// <c>object?[]</c>, set → <see cref="HashSet{T}"/>, str → string, bytes/bytearray → byte[], int → long (or
/// <see cref="BigInteger"/>), float → double, bool → bool, None → null, ndarray → <see cref="NumpyArray"/>,
/// NumPy scalars → long, double or bool.
/// </remarks>
public sealed class RestrictedUnpickler
{
    private static readonly Dictionary<string, Func<object?[], object?>> Allowed = new(StringComparer.Ordinal)
    {
        ["numpy.core.multiarray._reconstruct"] = NumpyArray.Reconstruct,
        ["numpy._core.multiarray._reconstruct"] = NumpyArray.Reconstruct,
        ["numpy.core.numeric._frombuffer"] = NumpyArray.FromBuffer,
        ["numpy._core.numeric._frombuffer"] = NumpyArray.FromBuffer,
        ["numpy.core.multiarray.scalar"] = NumpyArray.Scalar,
        ["numpy._core.multiarray.scalar"] = NumpyArray.Scalar,
        ["numpy.dtype"] = NumpyDtype.Create,
        ["numpy.ndarray"] = _ => throw new PickleFormatException("numpy.ndarray is only read as the argument of _reconstruct."),
        ["_codecs.encode"] = Encode,
        ["builtins.bytes"] = arguments => arguments.Length == 0 ? Array.Empty<byte>() : Encode(arguments),
        ["builtins.bytearray"] = arguments => arguments.Length == 0 ? Array.Empty<byte>() : Encode(arguments),
        ["__builtin__.bytearray"] = arguments => arguments.Length == 0 ? Array.Empty<byte>() : Encode(arguments),
        ["builtins.set"] = ToSet,
        ["builtins.frozenset"] = ToSet,
        ["__builtin__.set"] = ToSet,
        ["__builtin__.frozenset"] = ToSet,
        ["builtins.list"] = arguments => arguments.Length == 0 ? new List<object?>() : new List<object?>(Items(arguments[0])),
        ["builtins.tuple"] = arguments => arguments.Length == 0 ? Array.Empty<object?>() : Items(arguments[0]).ToArray(),
        ["builtins.dict"] = _ => new Dictionary<object, object?>(),
        ["collections.OrderedDict"] = _ => new Dictionary<object, object?>(),
    };

    private readonly Stream _input;
    private readonly ImportLimits _limits;
    private readonly List<object?> _stack = [];
    private readonly Stack<int> _marks = new();
    private readonly Dictionary<long, object?> _memo = [];
    private long _elements;
    private long _built;

    private RestrictedUnpickler(Stream input, ImportLimits limits)
    {
        _input = input;
        _limits = limits;
    }

    /// <summary>The Python names a pickle may refer to.</summary>
    public static IEnumerable<string> AllowedGlobals => Allowed.Keys;

    /// <summary>
    /// Reads one pickled object; <see cref="PickleFormatException"/> for a corrupt or refused pickle, <see cref="PickleLimitException"/>
    /// (before allocating) when its containers hold more than <see cref="ImportLimits.MaxPickleElements"/> entries in all, or its calls
    /// would build more than <see cref="ImportLimits.MaxBytes"/> bytes. The machine is a loop over opcodes: no nesting in the file
    /// makes it recurse.
    /// </summary>
    public static object? Load(Stream input, ImportLimits? limits = null) => new RestrictedUnpickler(input, limits ?? ImportLimits.Default).Run();

    private object? Run()
    {
        while (true)
        {
            var opcode = _input.ReadByte();
            switch (opcode)
            {
                case -1: throw new PickleFormatException("the pickle ends before its STOP opcode: the file is truncated.");
                case 0x80: // PROTO
                    var protocol = ReadByte();
                    if (protocol > 5)
                    {
                        throw new PickleFormatException($"pickle protocol {protocol} is newer than 5, the highest Experiments reads.");
                    }
                    break;
                case 0x95: ReadBytes(8); break; // FRAME: a length hint only
                case 0x2e: return Pop(); // STOP
                case 0x28: _marks.Push(_stack.Count); break; // MARK
                case 0x30: Pop(); break; // POP
                case 0x31: PopMark(); break; // POP_MARK
                case 0x32: Push(Peek()); break; // DUP
                case 0x4e: Push(null); break; // NONE
                case 0x88: Push(true); break; // NEWTRUE
                case 0x89: Push(false); break; // NEWFALSE
                case 0x4a: Push((long)BinaryPrimitives.ReadInt32LittleEndian(ReadBytes(4))); break; // BININT
                case 0x4b: Push((long)ReadByte()); break; // BININT1
                case 0x4d: Push((long)BinaryPrimitives.ReadUInt16LittleEndian(ReadBytes(2))); break; // BININT2
                case 0x49: Push(ParseTextInt(ReadLine())); break; // INT
                case 0x4c: PushInteger(BigInteger.Parse(ReadLine().TrimEnd('L'), CultureInfo.InvariantCulture)); break; // LONG
                case 0x8a: PushInteger(ReadLong(ReadByte())); break; // LONG1
                case 0x8b: PushInteger(ReadLong(ReadLength(BinaryPrimitives.ReadInt32LittleEndian(ReadBytes(4))))); break; // LONG4
                case 0x46: Push(double.Parse(ReadLine(), NumberStyles.Float, CultureInfo.InvariantCulture)); break; // FLOAT
                case 0x47: Push(BinaryPrimitives.ReadDoubleBigEndian(ReadBytes(8))); break; // BINFLOAT
                case 0x54: Push(Encoding.Latin1.GetString(ReadBytes(ReadLength(BinaryPrimitives.ReadInt32LittleEndian(ReadBytes(4)))))); break; // BINSTRING
                case 0x55: Push(Encoding.Latin1.GetString(ReadBytes(ReadByte()))); break; // SHORT_BINSTRING
                case 0x42: Push(ReadBytes(ReadLength(BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4))))); break; // BINBYTES
                case 0x43: Push(ReadBytes(ReadByte())); break; // SHORT_BINBYTES
                case 0x8e: Push(ReadBytes(ReadLength(BinaryPrimitives.ReadInt64LittleEndian(ReadBytes(8))))); break; // BINBYTES8
                case 0x96: Push(ReadBytes(ReadLength(BinaryPrimitives.ReadInt64LittleEndian(ReadBytes(8))))); break; // BYTEARRAY8
                case 0x58: Push(Encoding.UTF8.GetString(ReadBytes(ReadLength(BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4)))))); break; // BINUNICODE
                case 0x8c: Push(Encoding.UTF8.GetString(ReadBytes(ReadByte()))); break; // SHORT_BINUNICODE
                case 0x8d: Push(Encoding.UTF8.GetString(ReadBytes(ReadLength(BinaryPrimitives.ReadInt64LittleEndian(ReadBytes(8)))))); break; // BINUNICODE8
                case 0x5d: Push(new List<object?>()); break; // EMPTY_LIST
                case 0x29: Push(Array.Empty<object?>()); break; // EMPTY_TUPLE
                case 0x7d: Push(new Dictionary<object, object?>()); break; // EMPTY_DICT
                case 0x8f: Push(new HashSet<object?>()); break; // EMPTY_SET
                case 0x6c: Push(new List<object?>(Counted(PopMark()))); break; // LIST
                case 0x74: Push(Counted(PopMark()).ToArray()); break; // TUPLE
                case 0x85: Push(new[] { Pop() }); break; // TUPLE1
                case 0x86: { var b = Pop(); var a = Pop(); Push(new[] { a, b }); break; } // TUPLE2
                case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); Push(new[] { a, b, c }); break; } // TUPLE3
                case 0x91: Push(new HashSet<object?>(Counted(PopMark()))); break; // FROZENSET
                case 0x61: { var item = Pop(); Count(1); As<List<object?>>(Peek(), "APPEND").Add(item); break; } // APPEND
                case 0x65: { var items = Counted(PopMark()); As<List<object?>>(Peek(), "APPENDS").AddRange(items); break; } // APPENDS
                case 0x90: { var items = Counted(PopMark()); As<HashSet<object?>>(Peek(), "ADDITEMS").UnionWith(items); break; } // ADDITEMS
                case 0x64: { var dict = new Dictionary<object, object?>(); SetItems(dict, Counted(PopMark())); Push(dict); break; } // DICT
                case 0x73: { var value = Pop(); var key = Pop(); Count(1); SetItems(As<Dictionary<object, object?>>(Peek(), "SETITEM"), [key, value]); break; } // SETITEM
                case 0x75: { var items = Counted(PopMark()); SetItems(As<Dictionary<object, object?>>(Peek(), "SETITEMS"), items); break; } // SETITEMS
                case 0x67: Push(Get(long.Parse(ReadLine(), CultureInfo.InvariantCulture))); break; // GET
                case 0x68: Push(Get(ReadByte())); break; // BINGET
                case 0x6a: Push(Get(BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4)))); break; // LONG_BINGET
                case 0x70: _memo[long.Parse(ReadLine(), CultureInfo.InvariantCulture)] = Peek(); break; // PUT
                case 0x71: _memo[ReadByte()] = Peek(); break; // BINPUT
                case 0x72: _memo[BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4))] = Peek(); break; // LONG_BINPUT
                case 0x94: _memo[_memo.Count] = Peek(); break; // MEMOIZE
                case 0x63: Push(Global(ReadLine(), ReadLine())); break; // GLOBAL
                case 0x93: { var name = Pop(); var module = Pop(); Push(Global(As<string>(module, "STACK_GLOBAL"), As<string>(name, "STACK_GLOBAL"))); break; } // STACK_GLOBAL
                case 0x52: // REDUCE
                case 0x81: // NEWOBJ
                    {
                        var arguments = As<object?[]>(Pop(), "REDUCE");
                        Push(Call(Pop(), arguments));
                        break;
                    }
                case 0x92: // NEWOBJ_EX
                    {
                        var keywords = As<Dictionary<object, object?>>(Pop(), "NEWOBJ_EX");
                        var arguments = As<object?[]>(Pop(), "NEWOBJ_EX");
                        if (keywords.Count > 0)
                        {
                            throw new PickleFormatException("NEWOBJ_EX with keyword arguments is not something a dataset pickle holds.");
                        }
                        Push(Call(Pop(), arguments));
                        break;
                    }
                case 0x62: { var state = Pop(); ChargeArguments(state); Build(Peek(), state); break; } // BUILD
                case 0x69: { var callable = Global(ReadLine(), ReadLine()); Push(Call(callable, PopMark().ToArray())); break; } // INST
                case 0x6f: { var items = PopMark(); Push(Call(items.FirstOrDefault(), items.Skip(1).ToArray())); break; } // OBJ
                case 0x50 or 0x51: // PERSID, BINPERSID
                    throw new PickleFormatException("the pickle uses persistent ids, as torch.save files do; save the data as NumPy arrays or nested lists with pickle.dump instead.");
                case 0x82 or 0x83 or 0x84: // EXT1, EXT2, EXT4
                    throw new PickleFormatException("the pickle refers to a copyreg extension code, which Experiments does not resolve.");
                case 0x97: // NEXT_BUFFER
                    throw new PickleFormatException("the pickle refers to out-of-band buffers (buffer_callback); pickle the data in-band.");
                case 0x98: break; // READONLY_BUFFER
                case 0x53 or 0x56: // STRING, UNICODE
                    throw new PickleFormatException("the pickle uses protocol 0 text strings; save it with protocol 2 or higher (pickle.dump(data, f, protocol=4)).");
                default:
                    throw new PickleFormatException($"byte 0x{opcode:X2} at offset {_input.Position - 1} is not a pickle opcode: the file is corrupt.");
            }
        }
    }

    private static PickleGlobal Global(string module, string name)
    {
        var fullName = $"{module}.{name}";
        if (!Allowed.TryGetValue(fullName, out var function))
        {
            throw new PickleRefusedException(fullName);
        }
        return new PickleGlobal(fullName, function);
    }

    private object? Call(object? callable, object?[] arguments)
    {
        if (callable is not PickleGlobal global)
        {
            throw new PickleFormatException($"the pickle calls a {Describe(callable)}, which is not callable: the file is corrupt.");
        }
        ChargeArguments(arguments);
        return global.Function(arguments);
    }

    /// <summary>
    /// An allowed call (or a NumPy array's state) may copy what it is given: list(x), bytes(x), a latin-1 string
    /// into an array's data. Charged before the call, so that a pickle calling them many times on one memoized
    /// value cannot build more than the limits.
    /// </summary>
    private void ChargeArguments(object? arguments)
    {
        foreach (var argument in arguments as object?[] ?? [arguments])
        {
            switch (argument)
            {
                case string text:
                    Charge(text.Length);
                    break;
                case byte[] bytes:
                    Charge(bytes.LongLength);
                    break;
                case ICollection<object?> items:
                    Count(items.Count);
                    break;
            }
        }
    }

    private List<object?> Counted(List<object?> items)
    {
        Count(items.Count);
        return items;
    }

    private void Count(long entries)
    {
        _elements += entries;
        if (_elements > _limits.MaxPickleElements)
        {
            throw new PickleLimitException(string.Create(CultureInfo.InvariantCulture,
                $"the pickle's lists, tuples, dicts and sets hold more than {_limits.MaxPickleElements} entries, the limit set by Experiments:MaxPickleElements "
                + $"(reached at offset {_input.Position}); save large data as NumPy arrays (.npz)."));
        }
    }

    private void Charge(long bytes)
    {
        _built += bytes;
        if (_built > _limits.MaxBytes)
        {
            throw new PickleLimitException(string.Create(CultureInfo.InvariantCulture,
                $"the pickle's calls would build more than {DatasetImportException.Format(_limits.MaxBytes)} ({_limits.MaxBytes} bytes, the limit set by Experiments:MaxUploadBytes), "
                + $"reached at offset {_input.Position}: it copies the same data many times."));
        }
    }

    private static void Build(object? target, object? state)
    {
        switch (target)
        {
            case NumpyArray array:
                array.SetState(state);
                break;
            case NumpyDtype dtype:
                dtype.SetState(state);
                break;
            case Dictionary<object, object?> when state is null:
                break;
            default:
                throw new PickleFormatException($"the pickle sets the state of a {Describe(target)}; only NumPy arrays and dtypes have state here.");
        }
    }

    private static void SetItems(Dictionary<object, object?> dict, List<object?> items)
    {
        if (items.Count % 2 != 0)
        {
            throw new PickleFormatException("a dict is built from an odd number of keys and values: the file is corrupt.");
        }
        for (var i = 0; i < items.Count; i += 2)
        {
            dict[items[i] ?? PickleNone.Key] = items[i + 1];
        }
    }

    private static byte[] Encode(object?[] arguments) => arguments switch
    {
        [string text] => Encoding.Latin1.GetBytes(text),
        [string text, string encoding] when encoding.Replace("-", "", StringComparison.Ordinal).Equals("latin1", StringComparison.OrdinalIgnoreCase) => Encoding.Latin1.GetBytes(text),
        [string text, string encoding] when encoding.Replace("-", "", StringComparison.Ordinal).Equals("utf8", StringComparison.OrdinalIgnoreCase) => Encoding.UTF8.GetBytes(text),
        [byte[] bytes] => bytes,
        [List<object?> values] => values.Select(value => value is long b and >= 0 and <= 255 ? (byte)b : throw new PickleFormatException("bytes are built from a list that is not of bytes.")).ToArray(),
        _ => throw new PickleFormatException("bytes are built from arguments other than a string and its encoding."),
    };

    private static HashSet<object?> ToSet(object?[] arguments) => arguments.Length == 0 ? new HashSet<object?>() : new HashSet<object?>(Items(arguments[0]));

    private static IEnumerable<object?> Items(object? value) => value switch
    {
        List<object?> list => list,
        object?[] tuple => tuple,
        HashSet<object?> set => set,
        _ => throw new PickleFormatException($"a collection is built from a {Describe(value)}."),
    };

    internal static string Describe(object? value) => value switch
    {
        null => "None",
        PickleGlobal global => global.Name,
        Dictionary<object, object?> => "dict",
        List<object?> => "list",
        object?[] => "tuple",
        _ => value.GetType().Name,
    };

    private static T As<T>(object? value, string opcode) => value is T typed
        ? typed
        : throw new PickleFormatException($"opcode {opcode} met a {Describe(value)} where it expects a {typeof(T).Name}: the file is corrupt.");

    private static object ParseTextInt(string text) => text switch
    {
        "01" => true,
        "00" => false,
        _ => long.Parse(text, CultureInfo.InvariantCulture),
    };

    private BigInteger ReadLong(int length) => length == 0 ? BigInteger.Zero : new BigInteger(ReadBytes(length), isUnsigned: false, isBigEndian: false);

    /// <summary>Python ints that fit become long; larger ones stay BigInteger.</summary>
    private void PushInteger(BigInteger value)
    {
        if (value >= long.MinValue && value <= long.MaxValue)
        {
            Push((long)value);
        }
        else
        {
            Push(value);
        }
    }

    private int ReadLength(long length)
    {
        if (length < 0 || length > _input.Length - _input.Position)
        {
            throw new PickleFormatException($"the pickle announces {length} bytes at offset {_input.Position}, past its end: the file is truncated or corrupt.");
        }
        return checked((int)length);
    }

    private byte ReadByte()
    {
        var value = _input.ReadByte();
        return value < 0 ? throw new PickleFormatException("the pickle ends in the middle of an opcode: the file is truncated.") : (byte)value;
    }

    private byte[] ReadBytes(int count)
    {
        var bytes = new byte[count];
        if (_input.ReadAtLeast(bytes, count, throwOnEndOfStream: false) < count)
        {
            throw new PickleFormatException("the pickle ends in the middle of an opcode: the file is truncated.");
        }
        return bytes;
    }

    private string ReadLine()
    {
        var line = new StringBuilder();
        int value;
        while ((value = _input.ReadByte()) != '\n')
        {
            if (value < 0 || line.Length > 1000)
            {
                throw new PickleFormatException("the pickle has an unterminated text argument: the file is truncated or corrupt.");
            }
            line.Append((char)value);
        }
        return line.ToString();
    }

    private void Push(object? value) => _stack.Add(value);

    private object? Peek() => _stack.Count > 0 && (_marks.Count == 0 || _stack.Count > _marks.Peek())
        ? _stack[^1]
        : throw new PickleFormatException("the pickle reads from an empty stack: the file is corrupt.");

    private object? Pop()
    {
        var value = Peek();
        _stack.RemoveAt(_stack.Count - 1);
        return value;
    }

    private List<object?> PopMark()
    {
        if (_marks.Count == 0)
        {
            throw new PickleFormatException("the pickle closes a MARK it never opened: the file is corrupt.");
        }
        var mark = _marks.Pop();
        var items = _stack.GetRange(mark, _stack.Count - mark);
        _stack.RemoveRange(mark, _stack.Count - mark);
        return items;
    }

    private object? Get(long index) => _memo.TryGetValue(index, out var value)
        ? value
        : throw new PickleFormatException($"the pickle reads memo entry {index}, which it never stored: the file is corrupt.");

    private sealed record PickleGlobal(string Name, Func<object?[], object?> Function);
}

/// <summary>Stands for Python's None as a dict key.</summary>
public sealed class PickleNone
{
    public static PickleNone Key { get; } = new();

    public override string ToString() => "None";
}

/// <summary>A pickle that is corrupt, truncated, or uses a feature a dataset pickle does not need.</summary>
public class PickleFormatException(string message) : Exception(message);

/// <summary>A pickle that would build more than the import's limits allow.</summary>
public sealed class PickleLimitException(string message) : PickleFormatException(message);

/// <summary>A pickle that names a global outside the allow-list.</summary>
public sealed class PickleRefusedException(string global) : PickleFormatException(
    $"the pickle refers to '{global}', which Experiments refuses to load: a pickle is read without running any code, and only dicts, lists, tuples, "
    + "numbers, strings and NumPy arrays are constructed from it. Save the data as nested lists or NumPy arrays in a dict.")
{
    public string Global { get; } = global;
}

/// <summary>A NumPy dtype as pickled: <c>numpy.dtype('f4', False, True)</c>, then its state sets the byte order.</summary>
public sealed class NumpyDtype(string code)
{
    private char _byteOrder = '=';

    public string Code { get; } = code;

    /// <summary>The numeric type, or null for dtypes Experiments does not read (text, objects, records).</summary>
    public NumericType? Type => NumericType.FromNumpy(Code, _byteOrder);

    internal static object Create(object?[] arguments) => arguments is [string code, ..]
        ? new NumpyDtype(code)
        : throw new PickleFormatException("numpy.dtype is called without a type code.");

    internal void SetState(object? state)
    {
        if (state is object?[] { Length: >= 2 } tuple && tuple[1] is string { Length: 1 } order)
        {
            _byteOrder = order[0];
            return;
        }
        throw new PickleFormatException("a NumPy dtype's state has no byte order.");
    }
}

/// <summary>
/// A NumPy array as pickled: by <c>_reconstruct</c> then <c>__setstate__((version, shape, dtype, is_fortran, raw))</c>
/// (protocols 2–4), or by <c>_frombuffer(buffer, dtype, shape, order)</c> (protocol 5). Under protocol 2 the raw
/// bytes arrive through <c>_codecs.encode(text, 'latin1')</c>, or as a latin-1 string from Python 2.
/// </summary>
public sealed class NumpyArray
{
    public NumpyDtype? Dtype { get; private set; }

    public long[] Shape { get; private set; } = [];

    public bool Fortran { get; private set; }

    public byte[] Data { get; private set; } = [];

    internal static object Reconstruct(object?[] arguments) => new NumpyArray();

    internal static object FromBuffer(object?[] arguments)
    {
        if (arguments is not [var buffer, NumpyDtype dtype, object?[] shape, string order])
        {
            throw new PickleFormatException("numpy _frombuffer is called with arguments other than (buffer, dtype, shape, order).");
        }
        return new NumpyArray { Data = Bytes(buffer), Dtype = dtype, Shape = ShapeOf(shape), Fortran = order == "F" };
    }

    internal static object Scalar(object?[] arguments)
    {
        if (arguments is not [NumpyDtype dtype, var raw])
        {
            throw new PickleFormatException("a NumPy scalar is pickled with arguments other than (dtype, bytes).");
        }
        var type = dtype.Type ?? throw new PickleFormatException($"a NumPy scalar has dtype '{dtype.Code}', which is not numeric.");
        var bytes = Bytes(raw);
        if (bytes.Length != type.Size)
        {
            throw new PickleFormatException($"a NumPy {type.Name} scalar holds {bytes.Length} bytes.");
        }
        Span<double> value = stackalloc double[1];
        type.Decode(bytes, value);
        return type.Kind switch
        {
            NumericKind.Bool => value[0] != 0,
            NumericKind.Float => value[0],
            _ => (long)value[0],
        };
    }

    internal void SetState(object? state)
    {
        var fields = state as object?[] ?? throw new PickleFormatException("a NumPy array's state is not a tuple.");
        if (fields.Length == 5)
        {
            fields = fields[1..];
        }
        if (fields is not [object?[] shape, NumpyDtype dtype, var fortran, var raw])
        {
            throw new PickleFormatException("a NumPy array's state is not (version, shape, dtype, is_fortran, data).");
        }
        if (raw is List<object?>)
        {
            throw new PickleFormatException($"a NumPy array of dtype '{dtype.Code}' holds Python objects; save numeric arrays (e.g. x.astype('float32')).");
        }
        Shape = ShapeOf(shape);
        Dtype = dtype;
        Fortran = fortran is true or 1L;
        Data = Bytes(raw);
    }

    private static byte[] Bytes(object? raw) => raw switch
    {
        byte[] bytes => bytes,
        string latin1 => Encoding.Latin1.GetBytes(latin1),
        _ => throw new PickleFormatException($"a NumPy array's data is a {RestrictedUnpickler.Describe(raw)}, not bytes."),
    };

    private static long[] ShapeOf(object?[] shape) => shape.Select(dimension => dimension is long value
        ? value
        : throw new PickleFormatException("a NumPy array's shape is not a tuple of whole numbers.")).ToArray();
}
