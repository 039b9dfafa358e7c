using Experiments.Domain.Models;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Experiments.Api.Persistence.Configurations;

internal sealed class ModelDefinitionConfiguration : IEntityTypeConfiguration<ModelDefinition>
{
    public void Configure(EntityTypeBuilder<ModelDefinition> builder)
    {
        builder.ToTable("Models");
        builder.HasKey(model => model.Id);
        builder.Property(model => model.Name).HasMaxLength(200).IsRequired();
        builder.HasIndex(model => new { model.Name, model.Version }).IsUnique();
        builder.Property(model => model.Layers).HasJsonConversion().IsRequired();
        builder.HasIndex(model => model.CreatedAt);
        builder.Property(model => model.CreatedBy).HasMaxLength(100);
    }
}
