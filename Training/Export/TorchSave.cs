using System.Globalization;
using System.Text;

namespace Experiments.Training.Export;

/// <summary>
/// Writes a state dict as <c>torch.save(model.state_dict(), io.BytesIO())</c> does in PyTorch 2.x (whose archive folder
/// is then "archive"): the records <c>data.pkl</c>, <c>.format_version</c> ("1": storages in numeric key order),
/// <c>.storage_alignment</c> ("64"), <c>byteorder</c> ("little"), <c>data/0</c>… (each tensor's bytes), then
/// <c>version</c> and <c>.data/serialization_id</c>, in that order (torch/serialization.py <c>_save</c>).
/// Loads with <c>torch.load(path, mmap=True, weights_only=True)</c>.
/// </summary>
public static class TorchSave
{
    public const string ArchiveName = "archive";

    public static void Write(Stream destination, StateDict stateDict)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("tensor bytes are written as they lie in memory, which is little-endian only on a little-endian machine.");
        }
        var archive = new TorchArchiveWriter(destination, ArchiveName);
        archive.WriteRecord("data.pkl", StateDictPickle.Write(stateDict));
        archive.WriteRecord(".format_version", "1"u8);
        archive.WriteRecord(".storage_alignment", Encoding.ASCII.GetBytes(TorchArchiveWriter.Alignment.ToString(CultureInfo.InvariantCulture)));
        archive.WriteRecord("byteorder", "little"u8);
        for (var key = 0; key < stateDict.Tensors.Count; key++)
        {
            archive.WriteRecord($"data/{key}", stateDict.Tensors[key].Data);
        }
        archive.Finish();
    }
}
