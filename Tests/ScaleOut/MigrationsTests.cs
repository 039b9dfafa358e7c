using Experiments.Api.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Experiments.Tests.ScaleOut;

/// <summary>Each engine's migrations describe the model exactly: nothing changed in the model is missing from them.</summary>
public sealed class MigrationsTests
{
    [Fact]
    public void The_SQLite_migrations_match_the_model()
    {
        using var db = new ExperimentsDbContext(new DbContextOptionsBuilder<ExperimentsDbContext>().UseSqlite("Data Source=:memory:").Options);

        Assert.False(db.Database.HasPendingModelChanges(), "the model changed: dotnet ef migrations add NAME --project Api --context ExperimentsDbContext --output-dir Persistence/Migrations");
        Assert.NotEmpty(db.Database.GetMigrations());
    }

    [Fact]
    public void The_PostgreSQL_migrations_match_the_model()
    {
        using var db = new PostgreSqlMigrationsContext(new DbContextOptionsBuilder<ExperimentsDbContext>().UseNpgsql("Host=localhost;Database=unused").Options);

        Assert.False(db.Database.HasPendingModelChanges(),
            "the model changed: dotnet ef migrations add NAME --project Api --context PostgreSqlMigrationsContext --output-dir Persistence/Migrations/PostgreSql");
        Assert.NotEmpty(db.Database.GetMigrations());
        // The two sets are apart: neither engine's context sees the other's migrations.
        using var sqlite = new ExperimentsDbContext(new DbContextOptionsBuilder<ExperimentsDbContext>().UseSqlite("Data Source=:memory:").Options);
        Assert.Empty(db.Database.GetMigrations().Intersect(sqlite.Database.GetMigrations()));
    }
}
