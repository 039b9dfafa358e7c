namespace Experiments.Domain.Models;

/// <summary>The reads of model versions, shared by the REST API and the dashboard.</summary>
public interface IModelQueries
{
    /// <summary>Newest first.</summary>
    Task<Page<ModelView>> ListAsync(int page, int pageSize, CancellationToken cancellationToken, string? createdBy = null);

    Task<ModelView?> GetAsync(Guid id, CancellationToken cancellationToken);
}
