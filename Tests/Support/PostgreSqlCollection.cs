namespace Experiments.Tests.Support;

/// <summary>
/// The test classes that share one private PostgreSQL cluster (<see cref="PostgreSqlFixture"/>): a cluster takes about a
/// second to create, a database about 0.15 s, so each class takes a database of its own (<see cref="PostgreSqlDatabase"/>)
/// from the one cluster. Like <see cref="OneAtATime"/>, and for the same reason (its
/// classes host the service, with a Hangfire server that trains), the collection runs after the parallel tests, one
/// class at a time; xunit runs the two collections one after the other.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PostgreSqlCollection : ICollectionFixture<PostgreSqlFixture>
{
    public const string Name = "PostgreSQL, one at a time";
}

/// <summary>The cluster of <see cref="PostgreSqlCollection"/>: started before its first class, removed after its last.</summary>
public sealed class PostgreSqlFixture : IAsyncLifetime
{
    private PostgreSqlServer? _server;

    public PostgreSqlServer Server => _server ?? throw new InvalidOperationException("The PostgreSQL fixture has not started yet.");

    public async Task InitializeAsync() => _server = await PostgreSqlServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
