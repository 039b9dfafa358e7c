using Experiments.Api.Access;
using Experiments.Domain.Access;
using Experiments.Domain.Datasets;
using Experiments.Domain.Models;
using Experiments.Domain.Runs;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Experiments.Api.Persistence;

public sealed class ExperimentsDbContext(DbContextOptions<ExperimentsDbContext> options) : DbContext(options)
{
    public DbSet<Dataset> Datasets => Set<Dataset>();

    public DbSet<ModelDefinition> Models => Set<ModelDefinition>();

    public DbSet<Run> Runs => Set<Run>();

    public DbSet<EpochMetric> EpochMetrics => Set<EpochMetric>();

    public DbSet<BatchMetric> BatchMetrics => Set<BatchMetric>();

    public DbSet<RunLogEntry> RunLogs => Set<RunLogEntry>();

    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();

    public DbSet<AuditEntry> AuditLog => Set<AuditEntry>();

    /// <summary>Adds an audit entry, to be written by the next save, in the same transaction as the change it records.</summary>
    public void Audit(Caller caller, string action, string target, string? detail, DateTimeOffset at) =>
        AuditLog.Add(new AuditEntry(at, caller.Name, action, target, detail));

    /// <summary>Adds an epoch of <paramref name="runId"/>, to be inserted by the next save.</summary>
    public EntityEntry<EpochMetric> AddEpoch(Guid runId, EpochMetric metric)
    {
        var entry = EpochMetrics.Add(metric);
        entry.Property(EpochMetricColumns.RunId).CurrentValue = runId;
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

    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(ExperimentsDbContext).Assembly);

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // SQLite has no date type; stored as ticks, timestamps sort and compare correctly in SQL.
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetToBinaryConverter>();
        configurationBuilder.Properties<DateTimeOffset?>().HaveConversion<DateTimeOffsetToBinaryConverter>();
    }
}

/// <summary>The shadow column that keys an <see cref="EpochMetric"/> row to its run.</summary>
public static class EpochMetricColumns
{
    public const string RunId = "RunId";

    /// <summary>The stored epochs of one run.</summary>
    public static IQueryable<EpochMetric> OfRun(this IQueryable<EpochMetric> metrics, Guid runId) =>
        metrics.Where(metric => EF.Property<Guid>(metric, RunId) == runId);
}
