namespace Experiments.Domain.Runs;

/// <summary>
/// Answer of <c>GET /api/runs/{id}/mistakes</c>: the samples of one kind (<c>wrong</c>, <c>confidentWrong</c>,
/// <c>ambiguous</c>) in a split, optionally of one true and one predicted class.
/// </summary>
/// <param name="RunId">The run whose trained model made the mistakes.</param>
/// <param name="Split">test, train (the rows training used) or validation (the rows the run held out).</param>
/// <param name="StoredSplit">The split of the dataset file the samples' <see cref="MistakeSample.StoredRow"/> counts in: test, or train for train and validation.</param>
/// <param name="Kind">wrong, confidentWrong or ambiguous, as asked.</param>
/// <param name="TrueClass">The true-class filter as a class index, when one was given.</param>
/// <param name="PredictedClass">The predicted-class filter as a class index, when one was given.</param>
/// <param name="Total">How many samples match before <c>count</c> is applied: for <c>wrong</c> without filters the confusion matrix's off-diagonal sum, with both filters that cell.</param>
/// <param name="ClassNames">The dataset's classes, by index.</param>
/// <param name="SampleShape">One sample's shape as the model sees it.</param>
/// <param name="Images">Whether the samples carry a PNG (image datasets) rather than their first values.</param>
/// <param name="Samples">At most <c>count</c> of the matching samples, in the kind's order.</param>
public sealed record RunMistakes(
    Guid RunId,
    string Split,
    string StoredSplit,
    string Kind,
    int? TrueClass,
    int? PredictedClass,
    int Total,
    string[] ClassNames,
    int[] SampleShape,
    bool Images,
    IReadOnlyList<MistakeSample> Samples);

/// <summary>One sample the model got wrong (or, for <c>ambiguous</c>, could hardly decide).</summary>
/// <param name="Index">Its position in the split (<see cref="RunMistakes.Split"/>).</param>
/// <param name="StoredRow">Its row in the dataset file's split (<see cref="RunMistakes.StoredSplit"/>), as the dataset preview counts rows.</param>
/// <param name="TrueClass">The class the dataset labels it with.</param>
/// <param name="TrueClassName">That class's name.</param>
/// <param name="PredictedClass">The class the model predicts, decided as the confusion matrix counts it.</param>
/// <param name="PredictedClassName">That class's name.</param>
/// <param name="Probabilities">Every class's probability, as <c>POST /api/runs/{id}/predict</c> gives them.</param>
/// <param name="Margin">The most probable class's probability less the second's.</param>
/// <param name="Features">The first 100 values as stored (before preprocessing), for data that are not images.</param>
/// <param name="Png">The sample as stored, drawn as a PNG data URL, for image datasets.</param>
public sealed record MistakeSample(
    int Index,
    int StoredRow,
    int TrueClass,
    string TrueClassName,
    int PredictedClass,
    string PredictedClassName,
    float[] Probabilities,
    double Margin,
    float[]? Features,
    string? Png);
