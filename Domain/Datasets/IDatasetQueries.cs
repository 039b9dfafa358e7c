namespace Experiments.Domain.Datasets;

/// <summary>The reads of datasets, shared by the REST API and the dashboard.</summary>
public interface IDatasetQueries
{
    /// <summary>Newest first.</summary>
    Task<Page<DatasetView>> ListAsync(int page, int pageSize, CancellationToken cancellationToken, string? createdBy = null);

    Task<DatasetView?> GetAsync(Guid id, CancellationToken cancellationToken);

    /// <summary>The first <paramref name="count"/> samples of the train or test split; null when there is no such dataset.</summary>
    Task<DatasetPreview?> PreviewAsync(Guid id, bool testSplit, int count, CancellationToken cancellationToken);
}
