using System.Buffers.Binary;
using System.IO.Compression;
using Experiments.Domain.Datasets;
using Experiments.Training.Data;

namespace Experiments.Training.Data;

/// <summary>
/// Shows stored samples as the dashboard and the API draw them: an image dataset's samples as PNGs, any other's as their
/// first values. Serves the dataset preview (the first samples of a split) and a run's mistakes (any rows).
/// </summary>
public static class DatasetPreviewer
{
    public const int MaxFeatures = 100;

    public static DatasetPreview Preview(Dataset dataset, string path, bool testSplit, int count)
    {
        var available = testSplit ? dataset.TestCount : dataset.TrainCount;
        count = Math.Min(count, available);
        var arrays = DatasetFile.ReadSamples(path, testSplit, 0, count);
        var header = DatasetFile.ReadHeader(path);
        var samples = new List<PreviewSample>(count);
        for (var i = 0; i < count; i++)
        {
            var label = arrays.Kind == TargetKind.ClassIndex ? dataset.ClassNames[arrays.Labels[i]] : null;
            var target = arrays.Kind == TargetKind.Values ? arrays.Values.AsSpan(i * arrays.TargetSize, arrays.TargetSize).ToArray() : null;
            var shown = Show(dataset, header.FeatureType, arrays.Sample(i));
            samples.Add(new PreviewSample(i, label, target, shown.Features, shown.Png));
        }
        return new DatasetPreview(dataset.Id, testSplit ? "test" : "train", dataset.SampleShape, IsImages(dataset), samples);
    }

    /// <summary>Whether the dataset's samples are drawn as images.</summary>
    public static bool IsImages(Dataset dataset) => ImageLayout(dataset.SampleShape) is not null;

    /// <summary>
    /// One sample as stored (before preprocessing): for an image dataset a PNG data URI (whole numbers 0..255 as grey
    /// levels, float features mapped from the dataset's minimum and maximum), else its first <see cref="MaxFeatures"/> values.
    /// </summary>
    public static ShownSample Show(Dataset dataset, FeatureType featureType, ReadOnlySpan<float> features)
    {
        if (ImageLayout(dataset.SampleShape) is not { } layout)
        {
            return new ShownSample(features[..Math.Min(MaxFeatures, features.Length)].ToArray(), null);
        }
        var range = featureType == FeatureType.UInt8 ? (0, 255) : (dataset.Statistics.Min, dataset.Statistics.Max);
        return new ShownSample(null, "data:image/png;base64," + Convert.ToBase64String(Png(features, layout, range)));
    }

    /// <summary>[H, W], [C, H, W] or [H, W, C] with 1 or 3 channels and sides of at least 4 are images.</summary>
    private static (int Channels, int Height, int Width, bool ChannelsLast)? ImageLayout(int[] shape) => shape switch
    {
        [var h, var w] when h >= 4 && w >= 4 => (1, h, w, false),
        [1 or 3, var h, var w] when h >= 4 && w >= 4 => (shape[0], h, w, false),
        [var h, var w, 1 or 3] when h >= 4 && w >= 4 => (shape[2], h, w, true),
        _ => null,
    };

    /// <summary>An 8-bit grayscale or RGB PNG of one sample, values mapped linearly from <paramref name="range"/> to 0..255.</summary>
    private static byte[] Png(ReadOnlySpan<float> values, (int Channels, int Height, int Width, bool ChannelsLast) layout, (double Min, double Max) range)
    {
        var (channels, height, width, channelsLast) = layout;
        var scale = range.Max > range.Min ? 255.0 / (range.Max - range.Min) : 0;
        var raw = new byte[height * (1 + width * channels)];
        for (var y = 0; y < height; y++)
        {
            var row = y * (1 + width * channels);
            raw[row] = 0; // filter: none
            for (var x = 0; x < width; x++)
            {
                for (var c = 0; c < channels; c++)
                {
                    var value = channelsLast ? values[(y * width + x) * channels + c] : values[(c * height + y) * width + x];
                    raw[row + 1 + x * channels + c] = (byte)Math.Clamp(Math.Round((value - range.Min) * scale), 0, 255);
                }
            }
        }
        using var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0d, 0x0a, 0x1a, 0x0a]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8;
        ihdr[9] = (byte)(channels == 1 ? 0 : 2);
        Chunk(png, "IHDR", ihdr);
        using (var compressed = new MemoryStream())
        {
            using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
            {
                zlib.Write(raw);
            }
            Chunk(png, "IDAT", compressed.ToArray());
        }
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream png, string type, byte[] data)
    {
        Span<byte> number = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(number, data.Length);
        png.Write(number);
        var typeBytes = System.Text.Encoding.ASCII.GetBytes(type);
        png.Write(typeBytes);
        png.Write(data);
        BinaryPrimitives.WriteUInt32BigEndian(number, Crc32([.. typeBytes, .. data]));
        png.Write(number);
    }

    private static readonly uint[] CrcTable = Enumerable.Range(0, 256).Select(n =>
    {
        var c = (uint)n;
        for (var k = 0; k < 8; k++)
        {
            c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        }
        return c;
    }).ToArray();

    private static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }
        return crc ^ 0xFFFFFFFFu;
    }
}

/// <summary>A stored sample as shown: its first values, or for an image dataset a PNG data URI.</summary>
public sealed record ShownSample(float[]? Features, string? Png);
