namespace Experiments.Web.Services;

/// <summary>The sample data files shipped with the service (the repository's <c>samples/</c>, copied next to the binaries).</summary>
public static class Samples
{
    public static string Folder => Path.Combine(AppContext.BaseDirectory, "samples");

    public static IReadOnlyList<FileInfo> List() => Directory.Exists(Folder)
        ? [.. new DirectoryInfo(Folder).EnumerateFiles().Where(file => !file.Name.Equals("README.md", StringComparison.OrdinalIgnoreCase)).OrderBy(file => file.Name, StringComparer.Ordinal)]
        : [];
}
