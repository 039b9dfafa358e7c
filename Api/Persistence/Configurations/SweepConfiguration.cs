using Experiments.Domain.Datasets;
using Experiments.Domain.Sweeps;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Experiments.Api.Persistence.Configurations;

internal sealed class SweepConfiguration : IEntityTypeConfiguration<Sweep>
{
    public void Configure(EntityTypeBuilder<Sweep> builder)
    {
        builder.ToTable("Sweeps");
        builder.HasKey(sweep => sweep.Id);
        builder.Property(sweep => sweep.Spec).HasJsonConversion().IsRequired();
        builder.Property(sweep => sweep.Name).HasMaxLength(SweepSpecValidator.MaxNameLength);
        // Optimistic concurrency: two controllers can never both finish (or a cancel and a finish both land on) one sweep.
        builder.Property(sweep => sweep.Status).HasConversion<string>().HasMaxLength(20).IsConcurrencyToken();
        builder.Property(sweep => sweep.CancelRequested).IsConcurrencyToken();
        builder.Property(sweep => sweep.CreatedBy).HasMaxLength(100);
        builder.Ignore(sweep => sweep.IsFinished);
        builder.HasOne<Dataset>().WithMany().HasForeignKey(sweep => sweep.DatasetId).OnDelete(DeleteBehavior.Restrict);
        builder.HasIndex(sweep => new { sweep.CreatedAt, sweep.Id });
        builder.HasIndex(sweep => sweep.Status);
    }
}
