using System.Diagnostics;
using System.Globalization;
using System.Runtime.Versioning;
using Npgsql;

namespace Experiments.Tests.Support;

// Also compiled into bench/ (see Bench.csproj): keep it free of test-framework types.

/// <summary>
/// A private PostgreSQL cluster from Debian's binaries (<c>/usr/lib/postgresql/*/bin</c>): a new cluster in a temporary
/// folder, its postmaster a child process of this one on a free loopback port, the superuser <see cref="UserName"/>
/// with trust authentication. Disposing it stops the server and deletes the folder. The machine's own PostgreSQL
/// service, if any, is never used.
/// </summary>
public sealed class PostgreSqlServer : IAsyncDisposable
{
    public const string UserName = "experiments";

    private const string BinariesRoot = "/usr/lib/postgresql";
    private static readonly TimeSpan CommandLimit = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StartLimit = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StopLimit = TimeSpan.FromSeconds(10);

    private readonly string _binaries;
    private readonly Account? _account;
    private readonly Process _process;
    private readonly ProcessOutput _output;
    private bool _disposed;

    private PostgreSqlServer(string binaries, Account? account, string folder, int port, Process process, ProcessOutput output)
    {
        _binaries = binaries;
        _account = account;
        Folder = folder;
        Port = port;
        _process = process;
        _output = output;
    }

    /// <summary>The temporary folder: the cluster in <c>data/</c>, the Unix socket next to it.</summary>
    public string Folder { get; }

    public string DataFolder => DataFolderIn(Folder);

    public int Port { get; }

    /// <summary>The postmaster's process id.</summary>
    public int ProcessId => _process.Id;

    /// <summary>What the postmaster wrote so far (PostgreSQL logs to standard error).</summary>
    public string Output => _output.ToString();

    /// <summary>Creates a cluster and starts its server: about a second, most of it initdb.</summary>
    public static async Task<PostgreSqlServer> StartAsync()
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("The private PostgreSQL server runs Debian's binaries: Linux only.");
        }
        var binaries = FindBinaries();
        // PostgreSQL refuses to run as root, and CI runs the tests as root: then the cluster belongs to another account.
        var account = Environment.IsPrivilegedProcess ? UnprivilegedAccount() : null;
        var folder = CreateFolder(account);
        try
        {
            if (account is not null)
            {
                await RunToEndAsync(Command(null, folder, "chown", $"{account.UserId}:{account.GroupId}", folder));
            }
            await RunToEndAsync(Command(account, folder, Path.Combine(binaries, "initdb"),
                "-D", DataFolderIn(folder), "-U", UserName, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"));
            for (var attempt = 1; ; attempt++)
            {
                var server = Launch(binaries, account, folder, LoopbackPort.Free());
                try
                {
                    await server.WaitUntilAcceptingConnectionsAsync();
                    return server;
                }
                catch (InvalidOperationException) when (attempt < 3 && server.Output.Contains("Address already in use", StringComparison.Ordinal))
                {
                    // Another process took the port between LoopbackPort.Free and the postmaster's bind: take another one.
                    await server.StopProcessAsync();
                }
                catch
                {
                    await server.StopProcessAsync();
                    throw;
                }
            }
        }
        catch
        {
            DeleteFolder(folder);
            throw;
        }
    }

    /// <summary>A connection string for <paramref name="database"/> on this server, as <see cref="UserName"/>.</summary>
    public string ConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = UserName,
        Database = database,
        // Every database has a pool of its own: small pools keep their sum under max_connections (300).
        MaxPoolSize = 20,
    }.ConnectionString;

    /// <summary>
    /// Creates an empty database, named <paramref name="name"/> or a new unique name, and answers its connection string.
    /// </summary>
    public async Task<string> CreateDatabaseAsync(string? name = null)
    {
        name ??= $"test_{Guid.NewGuid():N}";
        if (name.Length is 0 or > 63 || !name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_'))
        {
            throw new ArgumentException($"'{name}' is not a database name here: 1 to 63 lower-case letters, digits and underscores.", nameof(name));
        }
        await using var connection = new NpgsqlConnection(AdministrationConnectionString());
        await connection.OpenAsync();
        // CREATE DATABASE takes no parameters: the name, checked above, is written into the statement.
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync();
        return ConnectionString(name);
    }

    /// <summary>Stops the server (a fast shutdown: sessions are ended, nothing is kept) and deletes its folder.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        await StopProcessAsync();
        DeleteFolder(Folder);
    }

    /// <summary>Without pooling, so that creating databases leaves no idle session behind.</summary>
    private string AdministrationConnectionString() =>
        new NpgsqlConnectionStringBuilder(ConnectionString("postgres")) { Pooling = false, Timeout = 5 }.ConnectionString;

    private static PostgreSqlServer Launch(string binaries, Account? account, string folder, int port)
    {
        var start = Command(account, folder, Path.Combine(binaries, "postgres"),
            "-D", DataFolderIn(folder),
            "-p", port.ToString(CultureInfo.InvariantCulture),
            "-k", folder,
            "-c", "listen_addresses=127.0.0.1",
            // The cluster is thrown away after the tests: durability is traded for speed.
            "-c", "fsync=off",
            "-c", "synchronous_commit=off",
            "-c", "full_page_writes=off",
            "-c", "max_connections=300");
        var process = Process.Start(start) ?? throw new InvalidOperationException("postgres did not start.");
        var output = new ProcessOutput();
        output.ReadFrom(process);
        return new PostgreSqlServer(binaries, account, folder, port, process, output);
    }

    private async Task WaitUntilAcceptingConnectionsAsync()
    {
        var probe = AdministrationConnectionString();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < StartLimit)
        {
            if (_process.HasExited)
            {
                await _process.WaitForExitAsync(); // Until its output is read to the end.
                throw new InvalidOperationException($"postgres exited with code {_process.ExitCode} while starting:\n{Output}");
            }
            try
            {
                await using var connection = new NpgsqlConnection(probe);
                await connection.OpenAsync();
                return;
            }
            catch (NpgsqlException)
            {
                // Not listening yet, or listening and still starting up (57P03).
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"postgres did not accept connections within {StartLimit.TotalSeconds} s:\n{Output}");
    }

    private async Task StopProcessAsync()
    {
        if (!_process.HasExited)
        {
            // pg_ctl sends the postmaster SIGINT, PostgreSQL's fast shutdown; it runs as the cluster's account, as postgres does.
            using var limit = new CancellationTokenSource(StopLimit);
            try
            {
                await RunToEndAsync(Command(_account, Folder, Path.Combine(_binaries, "pg_ctl"), "stop", "-D", DataFolder, "-m", "fast", "--no-wait"));
                await _process.WaitForExitAsync(limit.Token);
            }
            catch (Exception exception) when (exception is InvalidOperationException or TimeoutException or OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        _process.Dispose();
    }

    private static string FindBinaries()
    {
        var newest = Directory.Exists(BinariesRoot)
            ? Directory.GetDirectories(BinariesRoot)
                .Where(version => int.TryParse(Path.GetFileName(version), CultureInfo.InvariantCulture, out _))
                .Where(version => File.Exists(Path.Combine(version, "bin", "initdb")))
                .OrderByDescending(version => int.Parse(Path.GetFileName(version), CultureInfo.InvariantCulture))
                .FirstOrDefault()
            : null;
        return newest is not null
            ? Path.Combine(newest, "bin")
            : throw new InvalidOperationException(
                $"PostgreSQL is not installed (no {BinariesRoot}/*/bin/initdb): install it with `apt-get install -y postgresql`, as .ci/run does. "
                + "The tests start private servers from its binaries; they never use the machine's own.");
    }

    /// <summary>The postgres account (Debian's package creates it), or else nobody.</summary>
    private static Account UnprivilegedAccount()
    {
        var accounts = File.ReadLines("/etc/passwd")
            .Select(line => line.Split(':'))
            .Where(fields => fields.Length >= 4)
            .ToList();
        foreach (var name in new[] { "postgres", "nobody" })
        {
            var fields = accounts.FirstOrDefault(fields => fields[0] == name);
            if (fields is not null)
            {
                return new Account(int.Parse(fields[2], CultureInfo.InvariantCulture), int.Parse(fields[3], CultureInfo.InvariantCulture));
            }
        }
        throw new InvalidOperationException("The tests run as root, which PostgreSQL refuses; they run it as postgres or nobody, and /etc/passwd has neither.");
    }

    [SupportedOSPlatform("linux")]
    private static string CreateFolder(Account? account)
    {
        // Another account must reach a root-owned test process's cluster: /tmp is open to it, a TMPDIR may not be.
        var parent = account is null ? Path.GetTempPath() : "/tmp";
        var folder = Path.Combine(parent, $"experiments-postgresql-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return folder;
    }

    private static string DataFolderIn(string folder) => Path.Combine(folder, "data");

    private static void DeleteFolder(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // Best effort, as TemporaryFolder: the OS cleans the temporary folder.
        }
    }

    /// <summary><paramref name="program"/> as <paramref name="account"/>, or as this process's own user when null.</summary>
    private static ProcessStartInfo Command(Account? account, string workingDirectory, string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(account is null ? program : "setpriv")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (account is not null)
        {
            // setpriv executes the program in its own place (runuser and su fork it), so the child is the postmaster itself.
            start.ArgumentList.Add($"--reuid={account.UserId}");
            start.ArgumentList.Add($"--regid={account.GroupId}");
            start.ArgumentList.Add("--clear-groups");
            start.ArgumentList.Add("--");
            start.ArgumentList.Add(program);
        }
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        return start;
    }

    private static async Task RunToEndAsync(ProcessStartInfo start)
    {
        var commandLine = string.Join(' ', start.ArgumentList.Prepend(start.FileName));
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{start.FileName} did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(CommandLimit);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{commandLine} did not finish within {CommandLimit.TotalSeconds} s.");
        }
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{commandLine} failed with exit code {process.ExitCode}:\n{await output}{await errors}");
        }
    }

    private sealed record Account(int UserId, int GroupId);
}
