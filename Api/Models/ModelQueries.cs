using Experiments.Api.Persistence;
using Experiments.Domain;
using Experiments.Domain.Models;
using Microsoft.EntityFrameworkCore;

namespace Experiments.Api.Models;

public sealed class ModelQueries(ExperimentsDbContext db) : IModelQueries
{
    public async Task<Page<ModelView>> ListAsync(int page, int pageSize, CancellationToken cancellationToken, string? createdBy = null)
    {
        var listed = createdBy is null ? db.Models : db.Models.Where(model => model.CreatedBy == createdBy);
        var total = await listed.CountAsync(cancellationToken);
        var models = await listed.AsNoTracking()
            .OrderByDescending(model => model.CreatedAt)
            .PageOf(page, pageSize)
            .ToListAsync(cancellationToken);
        return new Page<ModelView>(models.Select(model => ModelView.From(model)).ToList(), page, pageSize, total);
    }

    public async Task<ModelView?> GetAsync(Guid id, CancellationToken cancellationToken)
    {
        var model = await db.Models.AsNoTracking().FirstOrDefaultAsync(m => m.Id == id, cancellationToken);
        return model is null ? null : ModelView.From(model);
    }
}
