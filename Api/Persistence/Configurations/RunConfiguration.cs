using Experiments.Domain.Datasets;
using Experiments.Domain.Models;
using Experiments.Domain.Runs;
using Experiments.Domain.Sweeps;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Experiments.Api.Persistence.Configurations;

/// <summary>Applied by <see cref="ExperimentsDbContext"/> itself, not found by scanning: its computed columns are written in each engine's SQL.</summary>
internal static class RunConfiguration
{
    /// <summary>Shadow property: the spec's optimizer type.</summary>
    public const string OptimizerType = nameof(OptimizerType);

    /// <summary>Shadow property: the spec's epoch count.</summary>
    public const string SpecEpochs = nameof(SpecEpochs);

    public static void Configure(EntityTypeBuilder<Run> builder, bool postgreSql)
    {
        builder.ToTable("Runs");
        builder.HasKey(run => run.Id);
        builder.Property(run => run.Spec).HasJsonConversion().IsRequired();
        // What the runs list shows of the spec, as columns the database computes from its JSON: a page of 50 runs then
        // reads two values instead of deserialising 50 specs (half the list's CPU time). SQLite computes them when read;
        // PostgreSQL, which has no virtual generated columns before version 18, when the row is written.
        if (postgreSql)
        {
            builder.Property<string>(OptimizerType).HasComputedColumnSql("\"Spec\"::jsonb #>> '{optimizer,type}'", stored: true);
            builder.Property<int?>(SpecEpochs).HasComputedColumnSql("(\"Spec\"::jsonb #>> '{epochs}')::integer", stored: true);
        }
        else
        {
            builder.Property<string>(OptimizerType).HasComputedColumnSql("json_extract(Spec, '$.optimizer.type')", stored: false);
            builder.Property<int?>(SpecEpochs).HasComputedColumnSql("json_extract(Spec, '$.epochs')", stored: false);
        }
        builder.Property(run => run.Environment).HasJsonConversion();
        builder.Property(run => run.Evaluation).HasJsonConversion();
        builder.Property(run => run.StopReason).HasConversion<string>().HasMaxLength(30);
        // Optimistic concurrency: a save only lands when the run is still in the status and with the
        // owner it was read with, so two workers can never both claim or finish the same run.
        builder.Property(run => run.Status).HasConversion<string>().HasMaxLength(20).IsConcurrencyToken();
        builder.Property(run => run.LeaseOwner).HasMaxLength(200).IsConcurrencyToken();
        builder.Ignore(run => run.IsFinished);
        builder.HasOne<Dataset>().WithMany().HasForeignKey(run => run.DatasetId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<ModelDefinition>().WithMany().HasForeignKey(run => run.ModelId).OnDelete(DeleteBehavior.Restrict);
        // With the Id, these indexes cover choosing a page of runs (and counting a queue) without reading the rows.
        builder.HasIndex(run => new { run.CreatedAt, run.Id });
        builder.Property(run => run.CreatedBy).HasMaxLength(100);
        builder.HasIndex(run => new { run.Status, run.CreatedAt, run.Id });
        // A sweep's trials: the unique number is what lets any number of controllers start trial N at most once.
        builder.HasOne<Sweep>().WithMany().HasForeignKey(run => run.SweepId).OnDelete(DeleteBehavior.Restrict);
        builder.HasIndex(run => new { run.SweepId, run.TrialNumber }).IsUnique();
        builder.Property(run => run.TrialParameters).HasJsonConversion();
        builder.Property(run => run.Pruning).HasJsonConversion();
    }
}

internal sealed class EpochMetricConfiguration : IEntityTypeConfiguration<EpochMetric>
{
    public void Configure(EntityTypeBuilder<EpochMetric> builder)
    {
        builder.ToTable("EpochMetrics");
        // The run an epoch belongs to is a column, not part of the record the trainer reports and the API serves.
        builder.Property<Guid>(EpochMetricColumns.RunId);
        builder.HasKey(EpochMetricColumns.RunId, nameof(EpochMetric.Epoch));
        builder.HasOne<Run>().WithMany().HasForeignKey(EpochMetricColumns.RunId).OnDelete(DeleteBehavior.Cascade);
        builder.Property<string>(EpochMetricColumns.Worker).HasMaxLength(200);
    }
}

internal sealed class BatchMetricConfiguration : IEntityTypeConfiguration<BatchMetric>
{
    public void Configure(EntityTypeBuilder<BatchMetric> builder)
    {
        builder.ToTable("BatchMetrics");
        builder.HasKey(metric => new { metric.RunId, metric.Step });
        builder.HasOne<Run>().WithMany().HasForeignKey(metric => metric.RunId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class WatchedStepConfiguration : IEntityTypeConfiguration<WatchedStep>
{
    public void Configure(EntityTypeBuilder<WatchedStep> builder)
    {
        builder.ToTable("LayerSnapshots");
        builder.HasKey(step => new { step.RunId, step.Step });
        builder.Property(step => step.Snapshot).HasJsonConversion().IsRequired();
        builder.HasOne<Run>().WithMany().HasForeignKey(step => step.RunId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class RunLogEntryConfiguration : IEntityTypeConfiguration<RunLogEntry>
{
    public void Configure(EntityTypeBuilder<RunLogEntry> builder)
    {
        builder.ToTable("RunLogs");
        builder.HasKey(entry => entry.Id);
        builder.Property(entry => entry.Level).HasMaxLength(10);
        builder.HasIndex(entry => new { entry.RunId, entry.Id });
        builder.HasOne<Run>().WithMany().HasForeignKey(entry => entry.RunId).OnDelete(DeleteBehavior.Cascade);
    }
}
