namespace Experiments.Training.Data.Import;

/// <summary>The names of the arrays to read from an .npz archive or a pickled dict, as sent or as found.</summary>
public sealed record ArrayKeys(string? Features, string? Labels, string? TestFeatures, string? TestLabels)
{
    public static ArrayKeys None { get; } = new(null, null, null, null);

    private static readonly (string Features, string Labels)[] TrainPairs =
    [
        ("x_train", "y_train"), ("X_train", "y_train"), ("training_data", "training_labels"), ("train_data", "train_labels"),
        ("train_images", "train_labels"), ("x", "y"), ("X", "y"), ("features", "labels"), ("data", "labels"), ("data", "target"),
        ("images", "labels"), ("inputs", "targets"),
    ];

    private static readonly (string Features, string Labels)[] TestPairs =
    [
        ("x_test", "y_test"), ("X_test", "y_test"), ("testing_data", "testing_labels"), ("test_data", "test_labels"), ("test_images", "test_labels"),
    ];

    /// <summary>
    /// The names sent, or else the first conventional pair present (x_train/y_train, training_data/training_labels,
    /// x/y, …) with its test pair when present. Refuses naming the arrays that are there.
    /// </summary>
    public ArrayKeys Resolve(IReadOnlyCollection<string> available, string what)
    {
        string Check(string name, string field) => available.Contains(name)
            ? name
            : throw new DatasetImportException(field, $"{what} has no '{name}'; it has: {List(available)}.");

        if (Features is not null || Labels is not null)
        {
            if (Features is null || Labels is null)
            {
                throw new DatasetImportException(Features is null ? "featuresKey" : "labelsKey", "give featuresKey and labelsKey together.");
            }
            if ((TestFeatures is null) != (TestLabels is null))
            {
                throw new DatasetImportException(TestFeatures is null ? "testFeaturesKey" : "testLabelsKey", "give testFeaturesKey and testLabelsKey together, or neither.");
            }
            return new ArrayKeys(Check(Features, "featuresKey"), Check(Labels, "labelsKey"),
                TestFeatures is null ? null : Check(TestFeatures, "testFeaturesKey"), TestLabels is null ? null : Check(TestLabels, "testLabelsKey"));
        }
        var train = TrainPairs.FirstOrDefault(pair => available.Contains(pair.Features) && available.Contains(pair.Labels));
        if (train.Features is null)
        {
            throw new DatasetImportException("file", $"{what} has none of the usual names (x_train and y_train, training_data and training_labels, x and y, …); "
                + $"it has: {List(available)}. Name the arrays to use with the fields featuresKey and labelsKey (and testFeaturesKey, testLabelsKey).");
        }
        var test = TestPairs.FirstOrDefault(pair => available.Contains(pair.Features) && available.Contains(pair.Labels));
        return new ArrayKeys(train.Features, train.Labels, test.Features, test.Labels);
    }

    private static string List(IEnumerable<string> names)
    {
        var list = names.ToList();
        return list.Count == 0 ? "nothing" : string.Join(", ", list.Take(20)) + (list.Count > 20 ? ", …" : "");
    }
}
