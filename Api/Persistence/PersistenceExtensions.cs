using Experiments.Api.Hosting;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Experiments.Api.Persistence;

public static class PersistenceExtensions
{
    public static IHostApplicationBuilder AddPersistence(this IHostApplicationBuilder builder)
    {
        // Pooled: every API read and dashboard render takes a context; reusing them saves building each one's services.
        builder.Services.AddPooledDbContextFactory<ExperimentsDbContext>((services, options) =>
        {
            var settings = services.GetRequiredService<IOptions<ExperimentsOptions>>().Value;
            var connection = new SqliteConnectionStringBuilder { DataSource = settings.DatabasePath, Pooling = true };
            options.UseSqlite(connection.ToString());
        });
        builder.Services.AddScoped(services => services.GetRequiredService<IDbContextFactory<ExperimentsDbContext>>().CreateDbContext());
        builder.Services.AddSingleton<DataFolderSweep>();
        builder.Services.AddHostedService(services => services.GetRequiredService<DataFolderSweep>());
        return builder;
    }

    /// <summary>Creates the data folder, applies migrations and switches the database to WAL mode.</summary>
    public static async Task PrepareDatabaseAsync(this IServiceProvider services, CancellationToken cancellationToken = default)
    {
        var settings = services.GetRequiredService<IOptions<ExperimentsOptions>>().Value;
        Directory.CreateDirectory(settings.DataFolderPath);
        Directory.CreateDirectory(settings.DatasetsFolderPath);
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ExperimentsDbContext>();
        await db.Database.MigrateAsync(cancellationToken);
        // WAL lets the dashboard and API read while a run writes its metrics; the mode sticks to the file.
        await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
    }
}
