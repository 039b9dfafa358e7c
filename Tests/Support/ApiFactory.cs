using System.Net.Http.Json;
using System.Text.Json;
using Experiments.Api;
using Experiments.Api.Runs;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Experiments.Tests.Support;

/// <summary>
/// The real host on a temporary data folder: a real SQLite file with real migrations, a real Hangfire
/// server on its own SQLite file, real TorchSharp. Run in Production so what users get is what is tested.
/// </summary>
public class ApiFactory : WebApplicationFactory<Program>
{
    private readonly TemporaryFolder _dataFolder = new();

    public string DataFolder => _dataFolder.Path;

    public static JsonSerializerOptions Json { get; } = CreateJsonOptions();

    /// <summary>
    /// False for a host that trains nothing and recovers nothing (no Hangfire server, no <see cref="RunRecovery"/>):
    /// runs stay exactly as a test seeded them.
    /// </summary>
    public bool Trains { get; init; } = true;

    /// <summary>Settings of this host over the test defaults (a short queue poll, the temporary data folder); set before its first use.</summary>
    public Dictionary<string, string> Settings { get; } = [];

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        builder.UseSetting("Experiments:DataFolder", DataFolder);
        builder.UseSetting("Experiments:QueuePollInterval", "00:00:00.100");
        foreach (var (key, value) in Settings)
        {
            builder.UseSetting(key, value);
        }
        if (!Trains)
        {
            builder.ConfigureTestServices(services =>
            {
                foreach (var worker in services.Where(service => service.ServiceType == typeof(IHostedService)
                    && (service.ImplementationType == typeof(RunRecovery) || service.ImplementationType == typeof(Experiments.Api.Workers.WorkerHeartbeat)
                        || service.ImplementationFactory?.Method.ReturnType == typeof(Hangfire.BackgroundJobServerHostedService))).ToList())
                {
                    services.Remove(worker);
                }
            });
        }
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            _dataFolder.Dispose();
        }
    }

    private static JsonSerializerOptions CreateJsonOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        HttpExtensions.Configure(options);
        return options;
    }
}

/// <summary>
/// The same host on PostgreSQL (<c>Experiments:Storage=PostgreSql</c>): the catalog and Hangfire in a database of its own
/// on the <see cref="PostgreSqlCollection"/>'s private cluster. A suite written against <see cref="ApiFactory"/> runs on
/// both engines through a class per engine (e.g. <c>RunLifecycleTests</c> and <c>RunLifecycleOnPostgreSqlTests</c>).
/// </summary>
public sealed class PostgreSqlApiFactory(PostgreSqlFixture cluster) : ApiFactory, IAsyncLifetime
{
    public string ConnectionString { get; private set; } = "";

    public async Task InitializeAsync()
    {
        ConnectionString = await cluster.Server.CreateDatabaseAsync();
        Settings["Experiments:Storage"] = "PostgreSql";
        Settings["ConnectionStrings:Experiments"] = ConnectionString;
    }

    Task IAsyncLifetime.DisposeAsync() => Task.CompletedTask;
}

public static class HttpClientJsonExtensions
{
    public static async Task<T> ReadAsAsync<T>(this HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<T>(ApiFactory.Json))!;
}
