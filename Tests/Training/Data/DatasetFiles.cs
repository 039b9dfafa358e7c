using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Net.Http.Headers;
using System.Runtime.InteropServices;
using System.Text;
using Experiments.Domain.Datasets;
using Experiments.Training.Data;
using Experiments.Training.Data.Import;

namespace Experiments.Tests.Training.Data;

/// <summary>Writes the files the dataset tests upload, byte for byte as NumPy and the MNIST tools lay them out.</summary>
public static class DatasetFiles
{
    public static string FixturePath(string name) => Path.Combine(AppContext.BaseDirectory, "Training", "Data", "Fixtures", name);

    /// <summary>Every feature value of a split as float32, as stored (bytes widened), for comparing with the values uploaded.</summary>
    public static float[] FeaturesAsFloats(DatasetArrays split) => [.. Enumerable.Range(0, split.Count).SelectMany(split.Sample)];

    /// <summary>An .npy file (format 1.0): magic, a header dict padded to 64 bytes with a newline, then the raw elements.</summary>
    public static byte[] Npy(string descr, long[] shape, byte[] data, bool fortran = false)
    {
        var shapeText = shape.Length == 1 ? $"({shape[0]},)" : "(" + string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + ")";
        return NpyWithHeader($"{{'descr': '{descr}', 'fortran_order': {(fortran ? "True" : "False")}, 'shape': {shapeText}, }}", data);
    }

    /// <summary>An .npy file with the given header dict text, padded as NumPy pads it.</summary>
    public static byte[] NpyWithHeader(string header, byte[] data)
    {
        var total = 10 + header.Length + 1;
        header = header.PadRight(header.Length + (64 - total % 64) % 64) + "\n";
        var bytes = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0 };
        bytes.AddRange(BitConverter.GetBytes((ushort)header.Length));
        bytes.AddRange(Encoding.ASCII.GetBytes(header));
        bytes.AddRange(data);
        return [.. bytes];
    }

    public static byte[] Npy(float[] values, params long[] shape) => Npy("<f4", shape, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());

    public static byte[] Npy(long[] values, params long[] shape) => Npy("<i8", shape, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());

    public static byte[] Npy(byte[] values, params long[] shape) => Npy("|u1", shape, values);

    /// <summary>Encodes values as a NumPy dtype (little-endian unless the descr starts with '&gt;').</summary>
    public static byte[] Encode(string descr, double[] values)
    {
        var bigEndian = descr[0] == '>';
        var code = descr.TrimStart('<', '>', '|', '=');
        var size = int.Parse(code[1..], CultureInfo.InvariantCulture);
        var bytes = new byte[values.Length * size];
        for (var i = 0; i < values.Length; i++)
        {
            var span = bytes.AsSpan(i * size, size);
            var v = values[i];
            switch (code[0], size)
            {
                case ('f', 2): BitConverter.TryWriteBytes(span, (Half)v); break;
                case ('f', 4): BitConverter.TryWriteBytes(span, (float)v); break;
                case ('f', 8): BitConverter.TryWriteBytes(span, v); break;
                case ('i', 1): span[0] = (byte)(sbyte)v; break;
                case ('i', 2): BitConverter.TryWriteBytes(span, (short)v); break;
                case ('i', 4): BitConverter.TryWriteBytes(span, (int)v); break;
                case ('i', 8): BitConverter.TryWriteBytes(span, (long)v); break;
                case ('u', 1): span[0] = (byte)v; break;
                case ('u', 2): BitConverter.TryWriteBytes(span, (ushort)v); break;
                case ('u', 4): BitConverter.TryWriteBytes(span, (uint)v); break;
                case ('u', 8): BitConverter.TryWriteBytes(span, (ulong)v); break;
                case ('b', 1): span[0] = v != 0 ? (byte)1 : (byte)0; break;
                default: throw new ArgumentException(descr);
            }
            if (bigEndian)
            {
                span.Reverse();
            }
        }
        return bytes;
    }

    /// <summary>An .npz: each array an .npy entry, deflated (np.savez_compressed) or stored (np.savez).</summary>
    public static byte[] Npz(bool compressed, params (string Name, byte[] Npy)[] arrays)
    {
        using var stream = new MemoryStream();
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, npy) in arrays)
            {
                var entry = zip.CreateEntry(name + ".npy", compressed ? CompressionLevel.Optimal : CompressionLevel.NoCompression);
                using var content = entry.Open();
                content.Write(npy);
            }
        }
        return stream.ToArray();
    }

    /// <summary>An IDX file: 0, 0, type code, dimension count, big-endian dimensions, then the (big-endian) data.</summary>
    public static byte[] Idx(byte typeCode, int[] dimensions, byte[] data)
    {
        var bytes = new byte[4 + dimensions.Length * 4 + data.Length];
        bytes[2] = typeCode;
        bytes[3] = (byte)dimensions.Length;
        for (var d = 0; d < dimensions.Length; d++)
        {
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + d * 4), dimensions[d]);
        }
        data.CopyTo(bytes, 4 + dimensions.Length * 4);
        return bytes;
    }

    public static byte[] Gzip(byte[] data)
    {
        using var stream = new MemoryStream();
        using (var gzip = new GZipStream(stream, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(data);
        }
        return stream.ToArray();
    }

    /// <summary>One upload of <paramref name="files"/> (field, file name, bytes) with the options left at the form's defaults, as the converter receives it.</summary>
    public static DatasetImportRequest Request(params (string Field, string FileName, byte[] Content)[] files)
    {
        UploadedFile? File(string field) => files.Where(file => file.Field == field)
            .Select(file => new UploadedFile(field, file.FileName, new MemoryStream(file.Content))).FirstOrDefault();
        return new DatasetImportRequest(Path.GetFileNameWithoutExtension(files[0].FileName), File("file")!, File("labelsFile"), File("testFile"), File("testLabelsFile"),
            null, null, new CsvImportOptions(null, null, null), ArrayKeys.None, new SplitOptions(0.2, 0), Preprocessing.None);
    }

    /// <summary>A multipart form with files (field, name, bytes) and text fields.</summary>
    public static MultipartFormDataContent Form(IEnumerable<(string Field, string FileName, byte[] Content)> files, params (string Name, string Value)[] fields)
    {
        var form = new MultipartFormDataContent();
        foreach (var (field, fileName, content) in files)
        {
            var file = new ByteArrayContent(content);
            file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(file, field, fileName);
        }
        foreach (var (name, value) in fields)
        {
            form.Add(new StringContent(value), name);
        }
        return form;
    }

    public static MultipartFormDataContent Form(string fileName, byte[] content, params (string Name, string Value)[] fields) =>
        Form([("file", fileName, content)], fields);

    /// <summary>
    /// Small learnable image data: <paramref name="count"/> images of <paramref name="side"/>² bytes whose class (0..2) is
    /// where a bright square sits, with per-sample noise.
    /// </summary>
    public static (byte[] Images, byte[] Labels) Images(int count, int side, int seed)
    {
        var random = new Random(seed);
        var images = new byte[count * side * side];
        var labels = new byte[count];
        for (var i = 0; i < count; i++)
        {
            var label = i % 3;
            labels[i] = (byte)label;
            for (var y = 0; y < side; y++)
            {
                for (var x = 0; x < side; x++)
                {
                    var bright = x * 3 / side == label;
                    images[(i * side + y) * side + x] = (byte)(bright ? 200 + random.Next(56) : random.Next(40));
                }
            }
        }
        return (images, labels);
    }
}
