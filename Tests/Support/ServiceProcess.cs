using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Experiments.Tests.Support;

// Also compiled into bench/ (see Bench.csproj): keep it free of test-framework types.

/// <summary>
/// The service as a real child process (the Api project's own build output) on a loopback port, so a
/// test can kill it the way an operating system does and start it again on the same data folder.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;

    private ServiceProcess(Process process, Uri address)
    {
        _process = process;
        Address = address;
    }

    public Uri Address { get; }

    public int ProcessId => _process.Id;

    /// <summary>Resident memory of the service process, from /proc (Linux).</summary>
    public long ResidentBytes()
    {
        var line = File.ReadLines($"/proc/{_process.Id}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }

    public static Task<ServiceProcess> StartAsync(string dataFolder, params string[] settings) => StartFromAsync(ApiOutputFolder(), dataFolder, settings);

    /// <summary>Starts the service from a build output folder of the Api project (its own, or a copy of it).</summary>
    public static async Task<ServiceProcess> StartFromAsync(string apiFolder, string dataFolder, params string[] settings)
    {
        var port = FreePort();
        var address = new Uri($"http://127.0.0.1:{port}/");
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = apiFolder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(apiFolder, "Experiments.Api.dll"));
        start.ArgumentList.Add($"--urls={address}");
        start.ArgumentList.Add($"--Experiments:DataFolder={dataFolder}");
        foreach (var setting in settings)
        {
            start.ArgumentList.Add(setting);
        }
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var service = new ServiceProcess(process, address);
        await service.WaitUntilHealthyAsync();
        return service;
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
                throw new InvalidOperationException($"The service exited with code {_process.ExitCode} while starting.");
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

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
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
