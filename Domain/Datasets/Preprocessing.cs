namespace Experiments.Domain.Datasets;

/// <summary>
/// What is done to every sample's features before the model sees them, at training and at prediction time:
/// multiply by <see cref="Scale"/>, then subtract <see cref="Mean"/> and divide by <see cref="Std"/> per
/// feature (when <see cref="Standardize"/>; both fitted on the scaled training split only), then view the
/// sample as <see cref="Reshape"/>. Each step is optional.
/// </summary>
public sealed record Preprocessing(double? Scale, bool Standardize, int[]? Reshape, float[]? Mean, float[]? Std)
{
    public static Preprocessing None { get; } = new(null, false, null, null, null);
}

/// <summary>
/// The preprocessing as shown to users, with the numbers it fitted: a model trained on the dataset expects
/// <c>(x * Scale - Mean[j]) / Std[j]</c> per feature j (each step only when set), viewed as <see cref="Reshape"/>.
/// <see cref="Mean"/> and <see cref="Std"/> have one value per feature of a stored sample (row-major); null without standardize.
/// </summary>
public sealed record PreprocessingView(double? Scale, bool Standardize, int[]? Reshape, float[]? Mean, float[]? Std)
{
    public static PreprocessingView From(Preprocessing preprocessing) =>
        new(preprocessing.Scale, preprocessing.Standardize, preprocessing.Reshape, preprocessing.Mean, preprocessing.Std);
}
