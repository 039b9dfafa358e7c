using Experiments.Api.Access;
using Experiments.Api.Hosting;
using Experiments.Api.Persistence;
using Experiments.Domain.Access;
using Experiments.Domain.Datasets;
using Experiments.Training.Data.Import;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Experiments.Api.Datasets;

/// <summary>
/// Stores an upload as a dataset: an upload already imported with the same options is answered with the
/// existing dataset; anything else is converted (<see cref="DatasetConverter"/>) and its row added. Either all
/// of it happens or none: a refused or failed import leaves no file and no row.
/// </summary>
public sealed class DatasetImporter(ExperimentsDbContext db, IOptions<ExperimentsOptions> options, IArtifactStore artifacts, TimeProvider time)
{
    private readonly ExperimentsOptions _options = options.Value;

    public async Task<(Dataset Dataset, bool Created)> ImportAsync(DatasetImportRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var hash = await request.ContentHashAsync(cancellationToken);
        var existing = await db.Datasets.AsNoTracking().FirstOrDefaultAsync(dataset => dataset.ContentHash == hash, cancellationToken);
        if (existing is not null)
        {
            return (existing, false);
        }

        Directory.CreateDirectory(_options.DatasetsFolderPath);
        var dataset = DatasetConverter.Convert(Guid.NewGuid(), request, hash, _options.DatasetsFolderPath, _options.DatasetImportLimits(), time);
        var tensorPath = artifacts.TensorFilePath(dataset);
        try
        {
            dataset.AttributeTo(caller.Name);
            db.Datasets.Add(dataset);
            db.Audit(caller, AuditActions.DatasetCreate, $"datasets/{dataset.Id}", dataset.Name, dataset.CreatedAt);
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            File.Delete(tensorPath);
            db.ChangeTracker.Clear();
            // The same upload imported concurrently and saved first is the answer; any other failure stays one.
            var raced = await db.Datasets.AsNoTracking().FirstOrDefaultAsync(d => d.ContentHash == hash, CancellationToken.None);
            if (raced is null)
            {
                throw;
            }
            return (raced, false);
        }
        catch
        {
            File.Delete(tensorPath);
            throw;
        }
        return (dataset, true);
    }
}
