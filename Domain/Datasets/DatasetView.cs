namespace Experiments.Domain.Datasets;

/// <summary>What the API and the dashboard show of a dataset.</summary>
public sealed record DatasetView(
    Guid Id,
    string Name,
    DatasetFormat Format,
    DatasetTask Task,
    int[] SampleShape,
    int ClassCount,
    string[] ClassNames,
    int[] ClassCounts,
    int TrainCount,
    int TestCount,
    FeatureStatistics Statistics,
    string ContentHash,
    DateTimeOffset CreatedAt)
{
    public static DatasetView From(Dataset dataset) => new(
        dataset.Id,
        dataset.Name,
        dataset.Format,
        dataset.Task,
        dataset.SampleShape,
        dataset.ClassNames.Length,
        dataset.ClassNames,
        dataset.ClassCounts,
        dataset.TrainCount,
        dataset.TestCount,
        dataset.Statistics,
        dataset.ContentHash,
        dataset.CreatedAt);
}
