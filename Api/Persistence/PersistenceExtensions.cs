using Experiments.Api.Hosting;
using Hangfire;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Experiments.Api.Persistence;

public static class PersistenceExtensions
{
    public static IHostApplicationBuilder AddPersistence(this IHostApplicationBuilder builder)
    {
        // Pooled: every API read and dashboard render takes a context; reusing them saves building each one's services.
        builder.Services.AddPooledDbContextFactory<ExperimentsDbContext>((services, options) =>
            Configure(options, services.GetRequiredService<Deployment>(), services.GetRequiredService<IOptions<ExperimentsOptions>>().Value));
        builder.Services.AddScoped(services => services.GetRequiredService<IDbContextFactory<ExperimentsDbContext>>().CreateDbContext());
        builder.Services.AddSingleton<IArtifactStore, DataFolderArtifacts>();
        builder.Services.AddSingleton<DataFolderSweep>();
        builder.Services.AddHostedService(services => services.GetRequiredService<DataFolderSweep>());
        return builder;
    }

    /// <summary>
    /// A context that carries the migrations of the configured engine, to apply them or to ask which are pending
    /// (the pooled contexts carry SQLite's whatever the engine: see <see cref="PostgreSqlMigrationsContext"/>).
    /// </summary>
    public static ExperimentsDbContext CreateMigrationsContext(IServiceProvider services)
    {
        var deployment = services.GetRequiredService<Deployment>();
        var builder = new DbContextOptionsBuilder<ExperimentsDbContext>();
        Configure(builder, deployment, services.GetRequiredService<IOptions<ExperimentsOptions>>().Value);
        return deployment.Storage == StorageEngine.PostgreSql ? new PostgreSqlMigrationsContext(builder.Options) : new ExperimentsDbContext(builder.Options);
    }

    private static void Configure(DbContextOptionsBuilder options, Deployment deployment, ExperimentsOptions settings)
    {
        if (deployment.Storage == StorageEngine.PostgreSql)
        {
            options.UseNpgsql(deployment.PostgreSqlConnectionString);
        }
        else
        {
            options.UseSqlite(new SqliteConnectionStringBuilder { DataSource = settings.DatabasePath, Pooling = true }.ToString());
        }
    }

    /// <summary>
    /// Creates the data folder and brings the storage up to date: the catalog's migrations, and on SQLite WAL mode; on
    /// PostgreSQL, Hangfire's schema too. Nodes starting together on one PostgreSQL database take turns (an advisory
    /// lock held for the whole of it), so that exactly one applies each migration and the others find it applied.
    /// </summary>
    public static async Task PrepareDatabaseAsync(this IServiceProvider services, CancellationToken cancellationToken = default)
    {
        var settings = services.GetRequiredService<IOptions<ExperimentsOptions>>().Value;
        var deployment = services.GetRequiredService<Deployment>();
        Directory.CreateDirectory(settings.DataFolderPath);
        Directory.CreateDirectory(settings.DatasetsFolderPath);
        await using var db = CreateMigrationsContext(services);
        if (deployment.Storage == StorageEngine.PostgreSql)
        {
            await using var connection = new NpgsqlConnection(deployment.PostgreSqlConnectionString);
            await connection.OpenAsync(cancellationToken);
            await using (var lockCommand = new NpgsqlCommand($"SELECT pg_advisory_lock({MigrationsLock})", connection))
            {
                await lockCommand.ExecuteNonQueryAsync(cancellationToken);
            }
            try
            {
                await db.Database.MigrateAsync(cancellationToken);
                // Hangfire.PostgreSql installs or upgrades its schema when its storage is first built.
                _ = services.GetService<JobStorage>();
            }
            finally
            {
                await using var unlock = new NpgsqlCommand($"SELECT pg_advisory_unlock({MigrationsLock})", connection);
                await unlock.ExecuteNonQueryAsync(CancellationToken.None);
            }
            return;
        }
        await db.Database.MigrateAsync(cancellationToken);
        // WAL lets the dashboard and API read while a run writes its metrics; the mode sticks to the file.
        await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
    }

    private const long MigrationsLock = ExperimentsDbContext.SerializedWriteLock + 1;
}
