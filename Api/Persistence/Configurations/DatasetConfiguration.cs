using Experiments.Domain.Datasets;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Experiments.Api.Persistence.Configurations;

internal sealed class DatasetConfiguration : IEntityTypeConfiguration<Dataset>
{
    public void Configure(EntityTypeBuilder<Dataset> builder)
    {
        builder.ToTable("Datasets");
        builder.HasKey(dataset => dataset.Id);
        builder.Property(dataset => dataset.Name).HasMaxLength(200).IsRequired();
        builder.Property(dataset => dataset.Format).HasConversion<string>().HasMaxLength(20);
        builder.Property(dataset => dataset.Task).HasConversion<string>().HasMaxLength(20);
        builder.Property(dataset => dataset.ContentHash).HasMaxLength(64).IsRequired();
        builder.HasIndex(dataset => dataset.ContentHash).IsUnique();
        builder.Property(dataset => dataset.TensorFile).HasMaxLength(260).IsRequired();
        builder.ComplexProperty(dataset => dataset.Statistics);
        builder.ComplexProperty(dataset => dataset.TargetStatistics);
        builder.Property(dataset => dataset.Dtype).HasMaxLength(20);
        builder.Property(dataset => dataset.FileName).HasMaxLength(260);
        builder.Property(dataset => dataset.SplitSource).HasConversion<string>().HasMaxLength(20);
        // The steps and their fitted per-feature mean and std, read whole whenever the dataset is used.
        builder.Property(dataset => dataset.Preprocessing).HasJsonConversion().IsRequired();
        builder.Ignore(dataset => dataset.ClassCount);
        builder.HasIndex(dataset => dataset.CreatedAt);
        builder.Property(dataset => dataset.CreatedBy).HasMaxLength(100);
    }
}
