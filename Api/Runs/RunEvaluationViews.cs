using Experiments.Domain.Datasets;
using Experiments.Domain.Runs;
using Experiments.Training.Metrics;

namespace Experiments.Api.Runs;

internal static class RunEvaluationViews
{
    /// <summary>What a pass over a split measured, as served: per-class metrics for classifiers, errors for regression.</summary>
    public static RunEvaluation From(string split, SplitMetrics metrics, Dataset dataset) =>
        metrics is { Accuracy: { } accuracy, ConfusionMatrix: { } confusion }
            ? RunEvaluations.FromConfusion(split, metrics.Samples, metrics.Loss, accuracy, dataset.ClassNames, confusion)
            : new RunEvaluation(split, metrics.Samples, metrics.Loss, null, [], [], [])
            {
                Mse = metrics.Mse,
                Mae = metrics.Mae,
                R2 = metrics.R2,
            };
}
