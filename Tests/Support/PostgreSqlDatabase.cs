namespace Experiments.Tests.Support;

/// <summary>
/// A class fixture: an empty database of the test class's own on the <see cref="PostgreSqlCollection"/>'s cluster.
/// Use it in a class of that collection (<c>[Collection(PostgreSqlCollection.Name)]</c>), which provides the cluster.
/// </summary>
public sealed class PostgreSqlDatabase(PostgreSqlFixture cluster) : IAsyncLifetime
{
    private string? _connectionString;

    public PostgreSqlServer Server => cluster.Server;

    public string ConnectionString => _connectionString ?? throw new InvalidOperationException("The database has not been created yet.");

    public async Task InitializeAsync() => _connectionString = await cluster.Server.CreateDatabaseAsync();

    // The database goes with the cluster, after the collection's last class.
    public Task DisposeAsync() => Task.CompletedTask;
}
