using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using System.Text;

namespace Experiments.Training.Export;

/// <summary>
/// A zip archive laid out byte for byte as PyTorch's <c>PyTorchStreamWriter</c> (caffe2/serialize/inline_container.cc,
/// over miniz 3.0.2 built with MINIZ_NO_TIME) lays out <c>torch.save</c>'s: every record under <c>{archive}/</c>, STORED
/// (never deflated), its data aligned to 64 bytes by a local extra field <c>"FB"</c> + length + <c>'Z'</c> padding,
/// followed by a data descriptor (general-purpose flag bit 3, with the UTF-8 bit 11); dates zero; a central directory
/// without extra fields; then the ZIP64 end-of-central-directory record and locator that
/// <c>MZ_ZIP_FLAG_WRITE_ZIP64</c> always writes, and the classic end record. <c>torch.load(mmap=True)</c> maps the
/// records in place, and with <c>calculate_storage_offsets</c> computes their offsets from exactly this layout.
/// Archives of 4 GiB or more (which need ZIP64 extra fields) are refused.
/// </summary>
internal sealed class TorchArchiveWriter
{
    public const int Alignment = 64;

    private const uint LocalHeaderSignature = 0x04034b50;
    private const uint DataDescriptorSignature = 0x08074b50;
    private const uint CentralHeaderSignature = 0x02014b50;
    private const uint Zip64EndSignature = 0x06064b50;
    private const uint Zip64LocatorSignature = 0x07064b50;
    private const uint EndSignature = 0x06054b50;
    private const ushort Utf8Flag = 1 << 11;
    private const ushort DataDescriptorFlag = 1 << 3;

    private readonly Stream _destination;
    private readonly string _archiveName;
    private readonly List<(string Name, uint Crc, uint Size, ushort Flags, uint Offset)> _records = [];
    private long _position;
    private ulong _combinedCrc;

    public TorchArchiveWriter(Stream destination, string archiveName)
    {
        _destination = destination;
        _archiveName = archiveName;
    }

    public void WriteRecord(string name, ReadOnlySpan<byte> data)
    {
        var fullName = Encoding.UTF8.GetBytes($"{_archiveName}/{name}");
        // detail::getPadding: the data starts after the 30-byte local header, the name and the 4-byte "FB" field header.
        var start = _position + 30 + fullName.Length + 4;
        var padding = (int)((Alignment - start % Alignment) % Alignment);
        if (_position + 30 + fullName.Length + 4 + padding + data.Length + 16 >= uint.MaxValue)
        {
            throw new NotSupportedException("the archive would reach 4 GiB, past which torch.save writes ZIP64 extra fields that this writer does not.");
        }
        var crc = Crc32.HashToUInt32(data);
        // miniz sets the descriptor flag (and writes the descriptor) only for records with data.
        var flags = data.Length > 0 ? (ushort)(Utf8Flag | DataDescriptorFlag) : Utf8Flag;
        var offset = (uint)_position;

        Span<byte> header = stackalloc byte[30];
        header.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(header, LocalHeaderSignature);
        // version needed 0 (stored), flags, method 0, time 0, date 0, and crc and sizes 0: they follow in the descriptor.
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], flags);
        BinaryPrimitives.WriteUInt16LittleEndian(header[26..], (ushort)fullName.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(header[28..], (ushort)(4 + padding));
        Write(header);
        Write(fullName);
        Span<byte> extra = stackalloc byte[4 + padding];
        extra.Fill((byte)'Z');
        extra[0] = (byte)'F';
        extra[1] = (byte)'B';
        BinaryPrimitives.WriteUInt16LittleEndian(extra[2..], (ushort)padding);
        Write(extra);
        Write(data);
        if (data.Length > 0)
        {
            Span<byte> descriptor = stackalloc byte[16];
            BinaryPrimitives.WriteUInt32LittleEndian(descriptor, DataDescriptorSignature);
            BinaryPrimitives.WriteUInt32LittleEndian(descriptor[4..], crc);
            BinaryPrimitives.WriteUInt32LittleEndian(descriptor[8..], (uint)data.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(descriptor[12..], (uint)data.Length);
            Write(descriptor);
            // ostream_write_func folds the CRC of every data descriptor it sees into the serialization id.
            _combinedCrc = HashCombine(_combinedCrc, crc);
        }
        _records.Add((name, crc, (uint)data.Length, flags, offset));
    }

    /// <summary>
    /// PyTorchStreamWriter::writeEndOfFile: the <c>version</c> record ("3\n", kMinProducedFileFormatVersion), the
    /// <c>.data/serialization_id</c> record, the central directory and the end records.
    /// </summary>
    public void Finish()
    {
        WriteRecord("version", "3\n"u8);
        WriteRecord(".data/serialization_id", Encoding.ASCII.GetBytes(SerializationId()));

        var centralStart = _position;
        Span<byte> entry = stackalloc byte[46];
        foreach (var (name, crc, size, flags, offset) in _records)
        {
            var fullName = Encoding.UTF8.GetBytes($"{_archiveName}/{name}");
            entry.Clear();
            BinaryPrimitives.WriteUInt32LittleEndian(entry, CentralHeaderSignature);
            // version made by 0, version needed 0, flags, method 0, time 0, date 0
            BinaryPrimitives.WriteUInt16LittleEndian(entry[8..], flags);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[16..], crc);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[20..], size);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[24..], size);
            BinaryPrimitives.WriteUInt16LittleEndian(entry[28..], (ushort)fullName.Length);
            // extra 0, comment 0, disk 0, internal attributes 0, external attributes 0
            BinaryPrimitives.WriteUInt32LittleEndian(entry[42..], offset);
            Write(entry);
            Write(fullName);
        }
        var centralSize = _position - centralStart;

        var zip64End = _position;
        Span<byte> end64 = stackalloc byte[56];
        end64.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(end64, Zip64EndSignature);
        BinaryPrimitives.WriteUInt64LittleEndian(end64[4..], 56 - 12);
        BinaryPrimitives.WriteUInt16LittleEndian(end64[12..], 0x031E); // made by: miniz's fixed "Unix, 3.0"
        BinaryPrimitives.WriteUInt16LittleEndian(end64[14..], 0x002D); // needed: 4.5 (ZIP64)
        BinaryPrimitives.WriteUInt64LittleEndian(end64[24..], (ulong)_records.Count);
        BinaryPrimitives.WriteUInt64LittleEndian(end64[32..], (ulong)_records.Count);
        BinaryPrimitives.WriteUInt64LittleEndian(end64[40..], (ulong)centralSize);
        BinaryPrimitives.WriteUInt64LittleEndian(end64[48..], (ulong)centralStart);
        Write(end64);

        Span<byte> locator = stackalloc byte[20];
        locator.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(locator, Zip64LocatorSignature);
        BinaryPrimitives.WriteUInt64LittleEndian(locator[8..], (ulong)zip64End);
        BinaryPrimitives.WriteUInt32LittleEndian(locator[16..], 1);
        Write(locator);

        Span<byte> end = stackalloc byte[22];
        end.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(end, EndSignature);
        BinaryPrimitives.WriteUInt16LittleEndian(end[8..], (ushort)_records.Count);
        BinaryPrimitives.WriteUInt16LittleEndian(end[10..], (ushort)_records.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(end[12..], (uint)centralSize);
        BinaryPrimitives.WriteUInt32LittleEndian(end[16..], (uint)centralStart);
        Write(end);
    }

    /// <summary>
    /// 20 decimal digits of a combined hash of the record names, then 20 of the combined CRC-32s of the records' data,
    /// as writeSerializationId builds it. PyTorch hashes the names with std::hash over an unordered_set, whose values and
    /// order are the C++ library's own, so the first half is FNV-1a over the names in write order instead: the id is
    /// deterministic and unique per content, which is what the record is for.
    /// </summary>
    private string SerializationId()
    {
        var names = 0UL;
        foreach (var record in _records)
        {
            names = HashCombine(names, Fnv1a(record.Name));
        }
        return names.ToString("D20", CultureInfo.InvariantCulture) + _combinedCrc.ToString("D20", CultureInfo.InvariantCulture);
    }

    /// <summary>c10::hash_combine.</summary>
    private static ulong HashCombine(ulong seed, ulong value) => seed ^ (value + 0x9e3779b9 + (seed << 6) + (seed >> 2));

    private static ulong Fnv1a(string text)
    {
        var hash = 0xcbf29ce484222325UL;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            hash = (hash ^ b) * 0x100000001b3UL;
        }
        return hash;
    }

    private void Write(ReadOnlySpan<byte> bytes)
    {
        _destination.Write(bytes);
        _position += bytes.Length;
    }
}
