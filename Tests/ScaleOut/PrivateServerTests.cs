using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Experiments.Tests.Support;
using Npgsql;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace Experiments.Tests.ScaleOut;

/// <summary>
/// The private PostgreSQL and Redis servers the scale-out tests run on: real servers of the tests' own, isolated from
/// each other and from the machine, and gone after disposal.
/// </summary>
[Collection(PostgreSqlCollection.Name)]
public sealed class PrivateServerTests(PostgreSqlDatabase database, ITestOutputHelper output) : IClassFixture<PostgreSqlDatabase>
{
    [Fact]
    public async Task PostgreSql_databases_of_one_cluster_keep_their_own_rows()
    {
        var other = await database.Server.CreateDatabaseAsync();
        foreach (var (connectionString, name) in new[] { (database.ConnectionString, "iris"), (other, "mnist") })
        {
            await QueryAsync(connectionString, "CREATE TABLE datasets (id integer PRIMARY KEY, name text NOT NULL)");
            await QueryAsync(connectionString, $"INSERT INTO datasets VALUES (1, '{name}')");
        }

        Assert.NotEqual(database.ConnectionString, other);
        Assert.Equal("iris", await QueryAsync(database.ConnectionString, "SELECT name FROM datasets"));
        Assert.Equal("mnist", await QueryAsync(other, "SELECT name FROM datasets"));
    }

    [Fact]
    public async Task PostgreSql_runs_from_its_temporary_folder_as_an_unprivileged_account_when_the_tests_are_root()
    {
        var serverAccount = UserIdOf(database.Server.ProcessId);
        var sessionAccount = UserIdOf((int)(await QueryAsync(database.ConnectionString, "SELECT pg_backend_pid()"))!);

        if (Environment.IsPrivilegedProcess)
        {
            Assert.NotEqual(0, serverAccount);
        }
        else
        {
            Assert.Equal(UserIdOf(Environment.ProcessId), serverAccount);
        }
        Assert.Equal(serverAccount, sessionAccount);
        Assert.Equal(database.Server.DataFolder, await QueryAsync(database.ConnectionString, "SELECT current_setting('data_directory')"));
    }

    [Fact]
    public async Task PostgreSql_disposed_stops_and_leaves_neither_its_folder_nor_its_port()
    {
        var clock = Stopwatch.StartNew();
        var server = await PostgreSqlServer.StartAsync();
        output.WriteLine($"A new PostgreSQL cluster accepted connections after {clock.ElapsedMilliseconds} ms.");
        var (folder, port, processId) = (server.Folder, server.Port, server.ProcessId);
        Assert.Equal(1, await QueryAsync(server.ConnectionString("postgres"), "SELECT 1"));

        clock.Restart();
        await server.DisposeAsync();
        output.WriteLine($"It stopped and its folder was deleted in {clock.ElapsedMilliseconds} ms.");

        Assert.False(Directory.Exists(folder));
        Assert.False(Directory.Exists($"/proc/{processId}"));
        Assert.False(await SomeoneListensOnAsync(port));
    }

    [Fact]
    public async Task Redis_answers_ping_and_delivers_a_publish_to_a_subscriber_of_another_connection()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var publisher = await ConnectAsync(redis);
        await using var subscriber = await ConnectAsync(redis);
        var channel = RedisChannel.Literal("runs");
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await subscriber.GetSubscriber().SubscribeAsync(channel, (_, message) => received.TrySetResult(message.ToString()));

        await publisher.GetDatabase().PingAsync();
        var receivers = await publisher.GetSubscriber().PublishAsync(channel, "epoch 1");

        Assert.Equal(1, receivers);
        Assert.Equal("epoch 1", await received.Task.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Redis_stopped_refuses_connections_until_started_again_on_the_same_port()
    {
        await using var redis = await RedisServer.StartAsync();

        await redis.StopAsync();
        await Assert.ThrowsAsync<RedisConnectionException>(() => ConnectAsync(redis));
        await redis.StartAgainAsync();

        await using var connection = await ConnectAsync(redis);
        await connection.GetDatabase().PingAsync();
        Assert.Contains($"127.0.0.1:{redis.Port}", connection.GetEndPoints().Select(endPoint => endPoint.ToString()));
    }

    [Fact]
    public async Task Redis_disposed_leaves_neither_its_folder_nor_its_port()
    {
        var redis = await RedisServer.StartAsync();
        var (folder, port) = (redis.Folder, redis.Port);
        Assert.True(Directory.Exists(folder));

        await redis.DisposeAsync();

        Assert.False(Directory.Exists(folder));
        Assert.False(await SomeoneListensOnAsync(port));
    }

    /// <summary>Runs <paramref name="sql"/> on a connection of its own and answers the first column of the first row.</summary>
    private static async Task<object?> QueryAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync();
        return value is DBNull ? null : value;
    }

    /// <summary>The effective user id of a process, from /proc.</summary>
    private static int UserIdOf(int processId)
    {
        var line = File.ReadLines($"/proc/{processId}/status").First(line => line.StartsWith("Uid:", StringComparison.Ordinal));
        return int.Parse(line.Split('\t', StringSplitOptions.RemoveEmptyEntries)[2], CultureInfo.InvariantCulture);
    }

    private static async Task<bool> SomeoneListensOnAsync(int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>A connection that fails at once when Redis is not there, instead of retrying in the background.</summary>
    private static Task<ConnectionMultiplexer> ConnectAsync(RedisServer redis)
    {
        var options = ConfigurationOptions.Parse(redis.ConnectionString);
        options.AbortOnConnectFail = true;
        options.ConnectRetry = 1;
        options.ConnectTimeout = 2000;
        return ConnectionMultiplexer.ConnectAsync(options);
    }
}
