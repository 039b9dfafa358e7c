using Experiments.Api.Access;
using Experiments.Api.Persistence.Configurations;
using Experiments.Domain.Access;
using Experiments.Domain.Datasets;
using Experiments.Domain.Models;
using Experiments.Domain.Runs;
using Experiments.Domain.Sweeps;
using Experiments.Domain.Workers;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Experiments.Api.Persistence;

/// <summary>
/// The catalog, runs and metrics, on SQLite or PostgreSQL (<c>Experiments:Storage</c>). This type carries the SQLite
/// migrations; <see cref="PostgreSqlMigrationsContext"/> carries PostgreSQL's, over the same model.
/// </summary>
public class ExperimentsDbContext(DbContextOptions<ExperimentsDbContext> options) : DbContext(options)
{
    public DbSet<Dataset> Datasets => Set<Dataset>();

    public DbSet<ModelDefinition> Models => Set<ModelDefinition>();

    public DbSet<Run> Runs => Set<Run>();

    public DbSet<EpochMetric> EpochMetrics => Set<EpochMetric>();

    public DbSet<BatchMetric> BatchMetrics => Set<BatchMetric>();

    public DbSet<WatchedStep> LayerSnapshots => Set<WatchedStep>();

    public DbSet<RunLogEntry> RunLogs => Set<RunLogEntry>();

    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();

    public DbSet<AuditEntry> AuditLog => Set<AuditEntry>();

    public DbSet<Worker> Workers => Set<Worker>();

    public DbSet<Sweep> Sweeps => Set<Sweep>();

    public bool IsPostgreSql => Database.ProviderName == PostgreSqlProvider;

    private const string PostgreSqlProvider = "Npgsql.EntityFrameworkCore.PostgreSQL";

    /// <summary>
    /// A transaction that writers take one at a time, for a check and the write that depends on it (a name still free,
    /// a dataset no run uses). SQLite's transactions are so already (BEGIN IMMEDIATE); on PostgreSQL, whose transactions
    /// run side by side, it holds a transaction-scoped advisory lock until it ends.
    /// </summary>
    public async Task<Microsoft.EntityFrameworkCore.Storage.IDbContextTransaction> BeginSerializedWriteAsync(CancellationToken cancellationToken)
    {
        var transaction = await Database.BeginTransactionAsync(cancellationToken);
        if (IsPostgreSql)
        {
            await Database.ExecuteSqlRawAsync($"SELECT pg_advisory_xact_lock({SerializedWriteLock})", cancellationToken);
        }
        return transaction;
    }

    /// <summary>Whether <paramref name="exception"/> is a unique index refusing a duplicate, on either engine.</summary>
    public static bool IsUniqueViolation(DbUpdateException exception) => exception.InnerException switch
    {
        Microsoft.Data.Sqlite.SqliteException sqlite => sqlite.SqliteErrorCode == 19 && sqlite.SqliteExtendedErrorCode is 2067 or 1555,
        Npgsql.PostgresException postgres => postgres.SqlState == Npgsql.PostgresErrorCodes.UniqueViolation,
        _ => false,
    };

    /// <summary>The advisory lock key of <see cref="BeginSerializedWriteAsync"/> ("Exp" "Wr" in ASCII); start-up migrations use the next one.</summary>
    internal const long SerializedWriteLock = 0x45_78_70_57_72;

    /// <summary>Adds an audit entry, to be written by the next save, in the same transaction as the change it records.</summary>
    public void Audit(Caller caller, string action, string target, string? detail, DateTimeOffset at) =>
        AuditLog.Add(new AuditEntry(at, caller.Name, action, target, detail));

    /// <summary>Adds an epoch of <paramref name="runId"/> trained by <paramref name="worker"/>, to be inserted by the next save.</summary>
    public EntityEntry<EpochMetric> AddEpoch(Guid runId, EpochMetric metric, string worker)
    {
        var entry = EpochMetrics.Add(metric);
        entry.Property(EpochMetricColumns.RunId).CurrentValue = runId;
        entry.Property(EpochMetricColumns.Worker).CurrentValue = worker;
        return entry;
    }

    /// <summary>A run with its dataset and model, untracked; null when there is no such run.</summary>
    public async Task<RunInputs?> RunInputsAsync(Guid runId, CancellationToken cancellationToken)
    {
        var run = await Runs.AsNoTracking().FirstOrDefaultAsync(r => r.Id == runId, cancellationToken);
        return run is null ? null : await InputsOfAsync(run, cancellationToken);
    }

    /// <summary>The dataset and model of <paramref name="run"/> (a run's dataset and model cannot be deleted while it exists).</summary>
    public async Task<RunInputs> InputsOfAsync(Run run, CancellationToken cancellationToken)
    {
        var dataset = await Datasets.AsNoTracking().FirstAsync(d => d.Id == run.DatasetId, cancellationToken);
        var model = await Models.AsNoTracking().FirstAsync(m => m.Id == run.ModelId, cancellationToken);
        return new RunInputs(run, dataset, model);
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(ExperimentsDbContext).Assembly);
        modelBuilder.Entity<Run>(run => RunConfiguration.Configure(run, IsPostgreSql));
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // SQLite has no date type; stored as ticks, timestamps sort and compare correctly in SQL. PostgreSQL stores them
        // the same way, so that both engines answer every query alike.
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetToBinaryConverter>();
        configurationBuilder.Properties<DateTimeOffset?>().HaveConversion<DateTimeOffsetToBinaryConverter>();
    }
}

/// <summary>The shadow column that keys an <see cref="EpochMetric"/> row to its run.</summary>
public static class EpochMetricColumns
{
    public const string RunId = "RunId";

    /// <summary>The worker that trained the epoch (<c>GET /api/runs/{id}</c> shows them as epoch ranges).</summary>
    public const string Worker = "Worker";

    /// <summary>The stored epochs of one run.</summary>
    public static IQueryable<EpochMetric> OfRun(this IQueryable<EpochMetric> metrics, Guid runId) =>
        metrics.Where(metric => EF.Property<Guid>(metric, RunId) == runId);
}

/// <summary>
/// The PostgreSQL migrations (Migrations/PostgreSql) are a set of their own, bound to this type (EF Core keeps one set per
/// context type); the service itself uses <see cref="ExperimentsDbContext"/> on either engine.
/// </summary>
public sealed class PostgreSqlMigrationsContext(DbContextOptions<ExperimentsDbContext> options) : ExperimentsDbContext(options);

/// <summary>
/// What <c>dotnet ef migrations add NAME --context PostgreSqlMigrationsContext --output-dir Persistence/Migrations/PostgreSql</c>
/// builds the model with; it connects to nothing.
/// </summary>
internal sealed class PostgreSqlMigrationsDesignTimeFactory : Microsoft.EntityFrameworkCore.Design.IDesignTimeDbContextFactory<PostgreSqlMigrationsContext>
{
    public PostgreSqlMigrationsContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<ExperimentsDbContext>().UseNpgsql("Host=localhost;Database=experiments").Options);
}

/// <summary>
/// What <c>dotnet ef migrations add NAME --context ExperimentsDbContext --output-dir Persistence/Migrations</c> builds the
/// model with: SQLite, whatever the configuration says (both factories are explicit, so neither engine's tool run picks
/// the other's context).
/// </summary>
internal sealed class SqliteMigrationsDesignTimeFactory : Microsoft.EntityFrameworkCore.Design.IDesignTimeDbContextFactory<ExperimentsDbContext>
{
    public ExperimentsDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<ExperimentsDbContext>().UseSqlite("Data Source=experiments.db").Options);
}
