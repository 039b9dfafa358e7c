using Experiments.Api.Access;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Experiments.Api.Persistence.Configurations;

internal sealed class ApiKeyConfiguration : IEntityTypeConfiguration<ApiKey>
{
    public void Configure(EntityTypeBuilder<ApiKey> builder)
    {
        builder.ToTable("ApiKeys");
        builder.HasKey(key => key.Id);
        builder.Property(key => key.Name).HasMaxLength(100).IsRequired();
        builder.Property(key => key.CreatedBy).HasMaxLength(100);
        builder.Property(key => key.Role).HasConversion<string>().HasMaxLength(20);
        builder.Property(key => key.Hash).HasMaxLength(32).IsRequired();
        builder.HasIndex(key => key.Hash).IsUnique();
        builder.HasIndex(key => key.Name);
    }
}

internal sealed class AuditEntryConfiguration : IEntityTypeConfiguration<AuditEntry>
{
    public void Configure(EntityTypeBuilder<AuditEntry> builder)
    {
        builder.ToTable("AuditLog");
        builder.HasKey(entry => entry.Id);
        builder.Property(entry => entry.Id).ValueGeneratedOnAdd();
        builder.Property(entry => entry.Actor).HasMaxLength(100);
        builder.Property(entry => entry.Action).HasMaxLength(40).IsRequired();
        builder.Property(entry => entry.Target).HasMaxLength(100).IsRequired();
        builder.Property(entry => entry.Detail).HasMaxLength(1000);
        builder.HasIndex(entry => entry.At);
    }
}
