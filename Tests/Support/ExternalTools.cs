using System.Diagnostics;

namespace Experiments.Tests.Support;

/// <summary>
/// Runs the tools the OpenAPI tests check the document with: the npm packages of <c>Tests/Clients/package.json</c>
/// (installed by <c>.ci/run</c> with <c>npm ci</c>) and the dotnet tools of <c>dotnet-tools.json</c> (<c>dotnet tool
/// restore</c>). A tool that is not installed fails the test with the command that installs it; it never skips.
/// </summary>
public static class ExternalTools
{
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    public static string NpmFolder => Path.Combine(RepositoryRoot, "Tests", "Clients");

    /// <summary>The path of an npm package's command, after checking that Node.js and the packages are installed.</summary>
    public static string NpmCommand(string name)
    {
        if (Which("node") is null)
        {
            Assert.Fail("Node.js is not installed: install it (apt-get install -y nodejs npm, as .ci/run does), then run `npm ci --prefix Tests/Clients`.");
        }
        var path = Path.Combine(NpmFolder, "node_modules", ".bin", name);
        if (!File.Exists(path))
        {
            Assert.Fail($"{name} is not installed: run `npm ci --prefix Tests/Clients` at the repository root (.ci/run does).");
        }
        return path;
    }

    /// <summary>Runs a command to its end (within <paramref name="limit"/>) and answers its exit code and output, stdout then stderr.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(
        string command, IEnumerable<string> arguments, string workingDirectory, TimeSpan? limit = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(command)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["NO_COLOR"] = "1";
        start.Environment["REDOCLY_TELEMETRY"] = "off";
        start.Environment["REDOCLY_SUPPRESS_UPDATE_NOTICE"] = "true";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        using var process = Process.Start(start)!;
        using var deadline = new CancellationTokenSource(limit ?? TimeSpan.FromMinutes(5));
        var output = process.StandardOutput.ReadToEndAsync(deadline.Token);
        var errors = process.StandardError.ReadToEndAsync(deadline.Token);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{command} {string.Join(' ', start.ArgumentList)} did not finish within {limit ?? TimeSpan.FromMinutes(5)}.");
        }
        return (process.ExitCode, await output + await errors);
    }

    private static string? Which(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(folder => Path.Combine(folder, name))
            .FirstOrDefault(File.Exists);

    private static string FindRepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Experiments.sln")))
            {
                return folder.FullName;
            }
        }
        throw new InvalidOperationException($"No Experiments.sln above {AppContext.BaseDirectory}.");
    }
}
