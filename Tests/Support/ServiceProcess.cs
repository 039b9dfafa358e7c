using System.Diagnostics;
using System.Net;

namespace Experiments.Tests.Support;

// Also compiled into bench/ (see Bench.csproj): keep it free of test-framework types.

/// <summary>
/// The service as a real child process (the Api project's own build output) on a loopback port, so a
/// test can kill it the way an operating system does and start it again on the same data folder.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ProcessOutput _output = new();

    private ServiceProcess(Process process, Uri address)
    {
        _process = process;
        Address = address;
    }

    public Uri Address { get; }

    /// <summary>What the service wrote to standard output and standard error so far, interleaved as it arrived.</summary>
    public string Output => _output.ToString();

    public int ProcessId => _process.Id;

    /// <summary>Resident memory of the service process, from /proc (Linux).</summary>
    public long ResidentBytes() => StatusBytes("VmRSS:");

    /// <summary>The most resident memory the service process has had since it started (VmHWM, Linux).</summary>
    public long PeakResidentBytes() => StatusBytes("VmHWM:");

    private long StatusBytes(string field)
    {
        var line = File.ReadLines($"/proc/{_process.Id}/status").First(l => l.StartsWith(field, StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }

    public static Task<ServiceProcess> StartAsync(string dataFolder, params string[] settings) => StartFromAsync(ApiOutputFolder(), dataFolder, settings);

    /// <summary>Starts the service listening on <paramref name="listenHost"/> (e.g. 0.0.0.0); it is reached at loopback.</summary>
    public static Task<ServiceProcess> StartListeningOnAsync(string listenHost, string dataFolder, params string[] settings) =>
        StartFromAsync(ApiOutputFolder(), dataFolder, listenHost, settings);

    /// <summary>Starts the service from a build output folder of the Api project (its own, or a copy of it).</summary>
    public static Task<ServiceProcess> StartFromAsync(string apiFolder, string dataFolder, params string[] settings) =>
        StartFromAsync(apiFolder, dataFolder, "127.0.0.1", settings);

    private static async Task<ServiceProcess> StartFromAsync(string apiFolder, string dataFolder, string listenHost, string[] settings)
    {
        var port = LoopbackPort.Free();
        var address = new Uri($"http://127.0.0.1:{port}/");
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = apiFolder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(apiFolder, "Experiments.Api.dll"));
        start.ArgumentList.Add($"--urls=http://{listenHost}:{port}/");
        start.ArgumentList.Add($"--Experiments:DataFolder={dataFolder}");
        foreach (var setting in settings)
        {
            start.ArgumentList.Add(setting);
        }
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start.");
        var service = new ServiceProcess(process, address);
        service._output.ReadFrom(process);
        try
        {
            await service.WaitUntilHealthyAsync();
        }
        catch
        {
            await service.DisposeAsync();
            throw;
        }
        return service;
    }

    /// <summary>
    /// Runs the service's binary as a command (e.g. <c>keys create --name alice --role editor</c>) on <paramref name="dataFolder"/>
    /// and waits for it to exit.
    /// </summary>
    public static async Task<(int ExitCode, string StandardOutput, string StandardError)> RunCommandAsync(string dataFolder, params string[] args)
    {
        var apiFolder = ApiOutputFolder();
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = apiFolder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(apiFolder, "Experiments.Api.dll"));
        foreach (var argument in args)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["Experiments__DataFolder"] = dataFolder;
        using var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await errors);
    }

    /// <summary>Starts the service with <paramref name="settings"/> expecting it to refuse: its exit code and everything it wrote.</summary>
    public static async Task<(int ExitCode, string Output)> StartExpectingExitAsync(string dataFolder, params string[] settings)
    {
        var apiFolder = ApiOutputFolder();
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = apiFolder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(apiFolder, "Experiments.Api.dll"));
        start.ArgumentList.Add($"--Experiments:DataFolder={dataFolder}");
        foreach (var setting in settings)
        {
            start.ArgumentList.Add(setting);
        }
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        using var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("The service kept running for 60 s instead of refusing to start.");
        }
        return (process.ExitCode, await output + await errors);
    }

    public HttpClient CreateClient() => new() { BaseAddress = Address };

    /// <summary>SIGKILL: no shutdown hooks, no flushing, exactly like a crash or an OOM kill.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await KillAsync();
        }
        _process.Dispose();
    }

    private async Task WaitUntilHealthyAsync()
    {
        using var client = CreateClient();
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The service exited with code {_process.ExitCode} while starting:\n{Output}");
            }
            try
            {
                if ((await client.GetAsync("/health")).StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            await Task.Delay(200);
        }
        throw new TimeoutException("The service did not become healthy within 60 s.");
    }

    /// <summary>Api/bin/{Configuration}/net10.0, built alongside the tests.</summary>
    public static string ApiOutputFolder()
    {
        var testsOutput = new DirectoryInfo(AppContext.BaseDirectory);
        var framework = testsOutput.Name;
        var configuration = testsOutput.Parent!.Name;
        var root = testsOutput;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Experiments.sln")))
        {
            root = root.Parent;
        }
        var folder = Path.Combine(root?.FullName ?? throw new DirectoryNotFoundException("Experiments.sln not found above the test output."), "Api", "bin", configuration, framework);
        return File.Exists(Path.Combine(folder, "Experiments.Api.dll")) ? folder : throw new FileNotFoundException($"Build the Api project first: {folder}");
    }
}
