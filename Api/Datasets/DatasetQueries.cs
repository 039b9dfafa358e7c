using Experiments.Api.Hosting;
using Experiments.Api.Persistence;
using Experiments.Domain;
using Experiments.Domain.Datasets;
using Experiments.Training.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Experiments.Api.Datasets;

public sealed class DatasetQueries(ExperimentsDbContext db, IArtifactStore artifacts) : IDatasetQueries
{
    public async Task<Page<DatasetView>> ListAsync(int page, int pageSize, CancellationToken cancellationToken, string? createdBy = null)
    {
        var listed = createdBy is null ? db.Datasets : db.Datasets.Where(dataset => dataset.CreatedBy == createdBy);
        var total = await listed.CountAsync(cancellationToken);
        var datasets = await listed.AsNoTracking()
            .OrderByDescending(dataset => dataset.CreatedAt)
            .PageOf(page, pageSize)
            .ToListAsync(cancellationToken);
        return new Page<DatasetView>(datasets.Select(DatasetView.From).ToList(), page, pageSize, total);
    }

    public async Task<DatasetView?> GetAsync(Guid id, CancellationToken cancellationToken)
    {
        var dataset = await db.Datasets.AsNoTracking().FirstOrDefaultAsync(d => d.Id == id, cancellationToken);
        return dataset is null ? null : DatasetView.From(dataset);
    }

    public async Task<DatasetPreview?> PreviewAsync(Guid id, bool testSplit, int count, CancellationToken cancellationToken)
    {
        var dataset = await db.Datasets.AsNoTracking().FirstOrDefaultAsync(d => d.Id == id, cancellationToken);
        return dataset is null
            ? null
            : DatasetPreviewer.Preview(dataset, artifacts.TensorFilePath(dataset), testSplit, count);
    }
}
