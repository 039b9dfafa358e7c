using Experiments.Domain.Datasets;
using Experiments.Domain.Models;
using Experiments.Domain.Runs;
using Microsoft.EntityFrameworkCore;
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

    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(ExperimentsDbContext).Assembly);

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // SQLite has no date type; stored as ticks, timestamps sort and compare correctly in SQL.
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetToBinaryConverter>();
        configurationBuilder.Properties<DateTimeOffset?>().HaveConversion<DateTimeOffsetToBinaryConverter>();
    }
}
