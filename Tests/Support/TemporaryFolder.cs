namespace Experiments.Tests.Support;

/// <summary>A new folder of one test's own under the system's temporary folder, deleted with its contents on dispose.</summary>
public sealed class TemporaryFolder : IDisposable
{
    public TemporaryFolder() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "experiments-tests", Guid.NewGuid().ToString("N"));

    /// <summary>The path of <paramref name="name"/> inside the folder.</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // Best effort: SQLite or a stopped process may hold a file for a moment; the OS cleans the temp folder.
        }
    }
}
