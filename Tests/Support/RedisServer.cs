using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Experiments.Tests.Support;

// Also compiled into bench/ (see Bench.csproj): keep it free of test-framework types.

/// <summary>
/// A private Redis server (Debian's <c>redis-server</c>) as a child process of this one on a free loopback port,
/// persisting nothing, its working folder a temporary one. A test can stop it abruptly, as when Redis is lost, and
/// start it again on the same port. The machine's own Redis service, if any, is never used.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private static readonly TimeSpan StartLimit = TimeSpan.FromSeconds(30);

    private readonly string _executable;
    private readonly TemporaryFolder _folder = new();
    private readonly ProcessOutput _output = new();
    private Process? _process;

    private RedisServer(string executable, int port)
    {
        _executable = executable;
        Port = port;
    }

    public int Port { get; }

    /// <summary>StackExchange.Redis's configuration string for this server.</summary>
    public string ConnectionString => $"127.0.0.1:{Port}";

    /// <summary>Redis's working folder (<c>--dir</c>); nothing is written to it, as nothing is saved.</summary>
    public string Folder => _folder.Path;

    /// <summary>What Redis wrote so far, over every start.</summary>
    public string Output => _output.ToString();

    public static async Task<RedisServer> StartAsync()
    {
        var executable = FindExecutable();
        for (var attempt = 1; ; attempt++)
        {
            var server = new RedisServer(executable, LoopbackPort.Free());
            try
            {
                await server.LaunchAsync();
                return server;
            }
            catch (InvalidOperationException) when (attempt < 3 && server.Output.Contains("Address already in use", StringComparison.Ordinal))
            {
                // Another process took the port between LoopbackPort.Free and Redis's bind: take another one.
                await server.DisposeAsync();
            }
            catch
            {
                await server.DisposeAsync();
                throw;
            }
        }
    }

    /// <summary>SIGKILL, as when Redis's machine is lost: connections drop, and new ones are refused until <see cref="StartAgainAsync"/>.</summary>
    public async Task StopAsync()
    {
        if (_process is null)
        {
            return;
        }
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
        _process = null;
    }

    /// <summary>Starts Redis again, on the same port and empty, after <see cref="StopAsync"/>.</summary>
    public Task StartAgainAsync() =>
        _process is null ? LaunchAsync() : throw new InvalidOperationException("Redis is running: stop it before starting it again.");

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _folder.Dispose();
    }

    private async Task LaunchAsync()
    {
        var start = new ProcessStartInfo(_executable)
        {
            WorkingDirectory = Folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            "--port", Port.ToString(CultureInfo.InvariantCulture),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", Folder,
        })
        {
            start.ArgumentList.Add(argument);
        }
        _process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start.");
        _output.ReadFrom(_process);
        await WaitUntilAnsweringPingAsync(_process);
    }

    private async Task WaitUntilAnsweringPingAsync(Process process)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < StartLimit)
        {
            if (process.HasExited)
            {
                await process.WaitForExitAsync(); // Until its output is read to the end.
                throw new InvalidOperationException($"redis-server exited with code {process.ExitCode} while starting:\n{Output}");
            }
            if (await AnswersPingAsync())
            {
                return;
            }
            await Task.Delay(20);
        }
        throw new TimeoutException($"redis-server did not answer PING within {StartLimit.TotalSeconds} s:\n{Output}");
    }

    /// <summary>PING in Redis's inline command form, which needs no client library.</summary>
    private async Task<bool> AnswersPingAsync()
    {
        try
        {
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, Port, limit.Token);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray(), limit.Token);
            var answer = new byte[7];
            var read = await stream.ReadAtLeastAsync(answer, answer.Length, throwOnEndOfStream: false, limit.Token);
            return answer.AsSpan(0, read).SequenceEqual("+PONG\r\n"u8);
        }
        catch (Exception exception) when (exception is SocketException or IOException or OperationCanceledException)
        {
            return false;
        }
    }

    private static string FindExecutable() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(folder => Path.Combine(folder, "redis-server"))
            .FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException(
            "Redis is not installed (no redis-server on PATH): install it with `apt-get install -y redis-server`, as .ci/run does. "
            + "The tests start private servers from it; they never use the machine's own.");
}
