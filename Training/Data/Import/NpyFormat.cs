using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace Experiments.Training.Data.Import;

/// <summary>
/// NumPy's <c>.npy</c> format (versions 1–3): a magic string, a header that is a Python dict literal naming
/// <c>descr</c>, <c>fortran_order</c> and <c>shape</c>, then the raw elements.
/// </summary>
public static class NpyFormat
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];
    private const int MaxHeaderLength = 1 << 20;

    public static bool Matches(ReadOnlySpan<byte> start) => start.StartsWith(Magic);

    /// <summary>Reads the header of the array at the stream's start; the elements stay in the stream.</summary>
    public static ArraySource Read(Stream stream, string name, string field, ImportWorkspace workspace)
    {
        var prefix = new byte[10];
        if (stream.ReadAtLeast(prefix, prefix.Length, throwOnEndOfStream: false) < prefix.Length || !Matches(prefix))
        {
            throw new DatasetImportException(field, $"'{name}' is not a NumPy .npy file, or its header is truncated: it must start with \\x93NUMPY and a version.");
        }
        var major = prefix[6];
        int headerLength;
        if (major == 1)
        {
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(prefix.AsSpan(8));
        }
        else if (major is 2 or 3)
        {
            var more = new byte[2];
            if (stream.ReadAtLeast(more, 2, throwOnEndOfStream: false) < 2)
            {
                throw new DatasetImportException(field, $"'{name}' has a truncated .npy header.");
            }
            headerLength = (int)Math.Min(int.MaxValue, BinaryPrimitives.ReadUInt32LittleEndian([.. prefix.AsSpan(8), .. more]));
        }
        else
        {
            throw new DatasetImportException(field, $"'{name}' is .npy format version {major}.{prefix[7]}; versions 1 to 3 are read.");
        }
        if (headerLength > MaxHeaderLength)
        {
            throw new DatasetImportException(field, $"'{name}' declares a .npy header of {headerLength} bytes; the header is corrupt.");
        }
        var headerBytes = new byte[headerLength];
        if (stream.ReadAtLeast(headerBytes, headerLength, throwOnEndOfStream: false) < headerLength)
        {
            throw new DatasetImportException(field, $"'{name}' is truncated inside its .npy header ({headerLength} bytes declared).");
        }
        var header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(headerBytes);
        var (descr, fortran, shape) = ParseHeader(header, name, field);
        var type = NumericType.FromNumpy(descr)
            ?? throw new DatasetImportException(field, $"'{name}' has dtype '{descr}'; Experiments reads bool, int8..int64, uint8..uint64 and float16/32/64 arrays"
                + (descr.Contains('U', StringComparison.Ordinal) || descr.Contains('S', StringComparison.Ordinal) || descr.Contains('O', StringComparison.Ordinal)
                    ? " (for text labels, save np.unique(y, return_inverse=True)[1] instead)." : "."));
        var offset = stream.Position;
        return fortran
            ? ArraySource.FromFortranOrder(name, field, type, shape, stream, offset, workspace)
            : new ArraySource(name, field, type, shape, stream, offset);
    }

    /// <summary>Parses <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (3, 4), }</c>.</summary>
    private static (string Descr, bool Fortran, long[] Shape) ParseHeader(string header, string name, string field)
    {
        string? descr = null;
        bool? fortran = null;
        long[]? shape = null;
        var text = header.Trim().TrimEnd('\n', ' ', '\0');
        if (!text.StartsWith('{') || !text.EndsWith('}'))
        {
            throw Corrupt(name, field, "it is not a Python dict literal");
        }
        var position = 1;
        while (true)
        {
            SkipSpaceAndCommas(text, ref position);
            if (position >= text.Length - 1)
            {
                break;
            }
            var key = ReadQuoted(text, ref position) ?? throw Corrupt(name, field, "a key is not a quoted string");
            SkipSpace(text, ref position);
            if (position >= text.Length || text[position++] != ':')
            {
                throw Corrupt(name, field, $"no ':' after '{key}'");
            }
            SkipSpace(text, ref position);
            switch (key)
            {
                case "descr":
                    descr = ReadQuoted(text, ref position) ?? (text[position] == '['
                        ? throw new DatasetImportException(field, $"'{name}' is a structured array (fields in its dtype); save plain numeric arrays, e.g. one array for features and one for labels.")
                        : throw Corrupt(name, field, "descr is not a quoted type string"));
                    break;
                case "fortran_order":
                    fortran = ReadWord(text, ref position) switch
                    {
                        "True" => true,
                        "False" => false,
                        var other => throw Corrupt(name, field, $"fortran_order is '{other}'"),
                    };
                    break;
                case "shape":
                    shape = ReadShape(text, ref position) ?? throw Corrupt(name, field, "shape is not a tuple of whole numbers");
                    break;
                default:
                    throw Corrupt(name, field, $"unexpected key '{key}'");
            }
        }
        if (descr is null || fortran is null || shape is null)
        {
            throw Corrupt(name, field, "descr, fortran_order or shape is missing");
        }
        return (descr, fortran.Value, shape);
    }

    private static DatasetImportException Corrupt(string name, string field, string why) =>
        new(field, $"'{name}' has a corrupt .npy header: {why}.");

    private static void SkipSpace(string text, ref int position)
    {
        while (position < text.Length && char.IsWhiteSpace(text[position]))
        {
            position++;
        }
    }

    private static void SkipSpaceAndCommas(string text, ref int position)
    {
        while (position < text.Length && (char.IsWhiteSpace(text[position]) || text[position] == ','))
        {
            position++;
        }
    }

    private static string? ReadQuoted(string text, ref int position)
    {
        if (position >= text.Length || text[position] is not ('\'' or '"'))
        {
            return null;
        }
        var quote = text[position];
        var end = text.IndexOf(quote, position + 1);
        if (end < 0)
        {
            return null;
        }
        var value = text[(position + 1)..end];
        position = end + 1;
        return value;
    }

    private static string ReadWord(string text, ref int position)
    {
        var start = position;
        while (position < text.Length && char.IsLetter(text[position]))
        {
            position++;
        }
        return text[start..position];
    }

    private static long[]? ReadShape(string text, ref int position)
    {
        if (position >= text.Length || text[position] != '(')
        {
            return null;
        }
        var end = text.IndexOf(')', position);
        if (end < 0)
        {
            return null;
        }
        var inside = text[(position + 1)..end];
        position = end + 1;
        var parts = inside.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var shape = new long[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            var part = parts[i].TrimEnd('L');
            if (!long.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out shape[i]))
            {
                return null;
            }
        }
        return shape;
    }
}

/// <summary>NumPy's <c>.npz</c>: a zip archive (stored or deflated) of <c>.npy</c> entries, read one entry at a time.</summary>
public sealed class NpzArchive : IDisposable
{
    private readonly ZipArchive _zip;
    private readonly ImportWorkspace _workspace;

    public NpzArchive(Stream stream, ImportWorkspace workspace)
    {
        _workspace = workspace;
        try
        {
            _zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
            Names = _zip.Entries.Where(entry => entry.FullName.EndsWith(".npy", StringComparison.Ordinal))
                .Select(entry => entry.FullName[..^4]).ToArray();
        }
        catch (Exception corrupt) when (corrupt is InvalidDataException or ArgumentException or IOException)
        {
            throw new DatasetImportException("file", $"the .npz file is not a readable zip archive: {corrupt.Message}");
        }
    }

    /// <summary>The arrays inside, by the names given to np.savez.</summary>
    public string[] Names { get; }

    /// <summary>Decompresses one array into the workspace (counting against the size limit) and reads its header.</summary>
    public ArraySource Read(string name)
    {
        var entry = _zip.GetEntry(name + ".npy") ?? throw new DatasetImportException("file", $"the .npz file has no array '{name}'; it has: {string.Join(", ", Names)}.");
        if (entry.Length > _workspace.MaxBytes)
        {
            throw DatasetImportException.TooLarge("file", $"array '{name}' of the .npz file", _workspace.MaxBytes);
        }
        Stream extracted;
        try
        {
            using var compressed = entry.Open();
            extracted = _workspace.Decompress(compressed, "file", $"array '{name}' of the .npz file");
        }
        catch (Exception corrupt) when (corrupt is InvalidDataException or IOException)
        {
            throw new DatasetImportException("file", $"array '{name}' of the .npz file cannot be decompressed: {corrupt.Message}");
        }
        return NpyFormat.Read(extracted, name, "file", _workspace);
    }

    public void Dispose() => _zip.Dispose();
}
