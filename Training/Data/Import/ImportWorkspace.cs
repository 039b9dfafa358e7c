namespace Experiments.Training.Data.Import;

/// <summary>
/// The scratch space of one import: temporary files in the datasets folder (decompressed entries, staged
/// CSV values, transposed arrays), all deleted when the import ends, the limits of the import, and the budget
/// of bytes that decompression may produce.
/// </summary>
public sealed class ImportWorkspace(string folder, ImportLimits limits) : IDisposable
{
    private readonly List<(string Path, FileStream Stream)> _files = [];
    private long _produced;

    public ImportLimits Limits { get; } = limits;

    public long MaxBytes => Limits.MaxBytes;

    /// <summary>A new read-write temporary file, deleted with the workspace.</summary>
    public FileStream CreateFile()
    {
        var path = Path.Combine(folder, $"import-{Guid.NewGuid():N}.partial");
        var stream = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);
        _files.Add((path, stream));
        return stream;
    }

    /// <summary>
    /// Copies a decompressing stream into a temporary file, refusing with 413 as soon as everything this
    /// import decompressed exceeds the upload limit (a zip or gzip bomb stops there).
    /// </summary>
    public FileStream Decompress(Stream source, string field, string what)
    {
        var file = CreateFile();
        var buffer = new byte[1 << 16];
        int read;
        while ((read = source.Read(buffer)) > 0)
        {
            _produced += read;
            if (_produced > MaxBytes)
            {
                throw DatasetImportException.TooLarge(field, $"{what} decompressed", MaxBytes);
            }
            file.Write(buffer, 0, read);
        }
        file.Position = 0;
        return file;
    }

    public void Dispose()
    {
        foreach (var (path, stream) in _files)
        {
            stream.Dispose();
            File.Delete(path);
        }
        _files.Clear();
    }
}
