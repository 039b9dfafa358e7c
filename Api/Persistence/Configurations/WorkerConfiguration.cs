using Experiments.Domain.Workers;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Experiments.Api.Persistence.Configurations;

internal sealed class WorkerConfiguration : IEntityTypeConfiguration<Worker>
{
    public void Configure(EntityTypeBuilder<Worker> builder)
    {
        builder.ToTable("Workers");
        builder.HasKey(worker => worker.Name);
        builder.Property(worker => worker.Name).HasMaxLength(200);
        builder.Property(worker => worker.Machine).HasMaxLength(200);
        builder.Property(worker => worker.Device).HasMaxLength(100);
        builder.Property(worker => worker.Queues).HasJsonConversion();
    }
}
