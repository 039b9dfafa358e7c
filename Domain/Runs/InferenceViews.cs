using System.Text.Json;

namespace Experiments.Domain.Runs;

/// <summary>Body of <c>POST /api/runs/{id}/evaluate</c>: a dataset whose samples have the run's sample shape and classes.</summary>
public sealed record EvaluateRequest(Guid DatasetId, EvaluationSplit? Split);

public enum EvaluationSplit
{
    Test,
    Train,
    All,

    /// <summary>The samples the run held out of its own dataset's training split (<c>validationFraction</c>).</summary>
    Validation,
}

/// <summary>
/// Body of <c>POST /api/runs/{id}/predict</c>: raw samples, each a (possibly nested) list of numbers with
/// as many values as one sample of the run's dataset, e.g. <c>[[5.1, 3.5, 1.4, 0.2]]</c> for Iris.
/// </summary>
public sealed record PredictRequest(IReadOnlyList<JsonElement>? Samples);

/// <summary>One sample's prediction: a class with every class's probability, or (regression) the predicted values.</summary>
/// <param name="Class">The predicted class index.</param>
/// <param name="ClassName">The predicted class as it appeared in the imported data.</param>
/// <param name="Probabilities">Softmax of the model's outputs, one per class.</param>
/// <param name="Values">The model's outputs for a regression dataset.</param>
public sealed record Prediction(int? Class, string? ClassName, float[]? Probabilities, float[]? Values);

public sealed record PredictResponse(IReadOnlyList<Prediction> Predictions);
