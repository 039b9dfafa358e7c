using System.Buffers.Binary;
using System.Text;

namespace Experiments.Tests.Training.Data;

/// <summary>
/// Writes pickles opcode by opcode, for the hostile inputs Python's pickler would not write (or would need a
/// recursion limit raised for): lists that contain themselves, a million levels of nesting, one list referred to
/// a million times. The opcodes are those of protocols 2 to 5 alike, so only the PROTO byte differs.
/// </summary>
public sealed class PickleOpcodes
{
    private readonly List<byte> _bytes;

    private PickleOpcodes(int protocol) => _bytes = [0x80, (byte)protocol];

    /// <summary>{'training_data': …, 'training_labels': …}: each value written by its own callback.</summary>
    public static byte[] Dataset(Action<PickleOpcodes> trainingData, Action<PickleOpcodes>? trainingLabels = null, int protocol = 4)
    {
        var pickle = new PickleOpcodes(protocol);
        pickle.Op(0x7d, 0x28); // EMPTY_DICT, MARK
        pickle.Text("training_data");
        trainingData(pickle);
        pickle.Text("training_labels");
        (trainingLabels ?? (labels => labels.List(1)))(pickle);
        pickle.Op(0x75, 0x2e); // SETITEMS, STOP
        return [.. pickle._bytes];
    }

    public PickleOpcodes Op(params byte[] opcodes)
    {
        _bytes.AddRange(opcodes);
        return this;
    }

    public PickleOpcodes EmptyList() => Op(0x5d);

    public PickleOpcodes Append() => Op(0x61);

    public PickleOpcodes Mark() => Op(0x28);

    public PickleOpcodes Appends() => Op(0x65);

    /// <summary>BININT: a 32-bit integer.</summary>
    public PickleOpcodes Int(int value) => Op(0x4a).Raw(LittleEndian(value));

    /// <summary>BINUNICODE: a UTF-8 string with a 32-bit length.</summary>
    public PickleOpcodes Text(string text)
    {
        var utf8 = Encoding.UTF8.GetBytes(text);
        return Op(0x58).Raw(LittleEndian(utf8.Length)).Raw(utf8);
    }

    /// <summary>LONG_BINPUT: stores the top of the stack as memo entry <paramref name="index"/>.</summary>
    public PickleOpcodes Put(int index) => Op(0x72).Raw(LittleEndian(index));

    /// <summary>LONG_BINGET: pushes memo entry <paramref name="index"/> again (the same object, not a copy).</summary>
    public PickleOpcodes Get(int index) => Op(0x6a).Raw(LittleEndian(index));

    /// <summary>GLOBAL module.name, as protocol 2 writes it.</summary>
    public PickleOpcodes Global(string module, string name) => Op(0x63).Raw(Encoding.ASCII.GetBytes($"{module}\n{name}\n"));

    /// <summary>A list of <paramref name="count"/> zeros, appended in one MARK … APPENDS.</summary>
    public PickleOpcodes List(int count) => EmptyList().Mark().Repeat(count, pickle => pickle.Int(0)).Appends();

    public PickleOpcodes Repeat(int times, Action<PickleOpcodes> write)
    {
        for (var i = 0; i < times; i++)
        {
            write(this);
        }
        return this;
    }

    private PickleOpcodes Raw(byte[] bytes)
    {
        _bytes.AddRange(bytes);
        return this;
    }

    private static byte[] LittleEndian(int value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, value);
        return bytes;
    }
}
