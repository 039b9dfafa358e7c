namespace Experiments.Domain.Runs;

/// <summary>
/// What a run's epochs add up to: how many completed, the last test accuracy, the best epoch with its test accuracy, and
/// (when the run holds a validation split out) the best validation accuracy. The run entity, the trainer's checkpoint and
/// the dashboard's live views all fold epochs into it with <see cref="Apply"/>, so they agree on what "best" means.
/// <see cref="BestTestAccuracy"/> is the test accuracy of <see cref="BestEpoch"/>. Without a validation split the best epoch
/// is the most accurate on test, so this is the highest test accuracy; with one, the best epoch is chosen on validation and
/// this is its test accuracy: the honest estimate of the model a user keeps.
/// </summary>
public sealed record EpochSummary(int EpochsCompleted, double? LastTestAccuracy, double? BestTestAccuracy, int? BestEpoch, double? BestValidationAccuracy = null)
{
    /// <summary>A run before its first epoch.</summary>
    public static EpochSummary None { get; } = new(0, null, null, null);

    /// <summary>
    /// The accuracy that selects the best epoch (and stops at the target accuracy): validation when the epoch was validated,
    /// else test; null when the epoch was not evaluated.
    /// </summary>
    public static double? SelectionAccuracy(EpochMetric metric) => metric.ValidationLoss is null ? metric.TestAccuracy : metric.ValidationAccuracy;

    /// <summary>
    /// The summary after <paramref name="metric"/>: epochs completed never move back; an evaluated epoch sets the last test
    /// accuracy, and becomes the best only when its <see cref="SelectionAccuracy"/> is strictly higher than the best so far
    /// (on a tie the earlier epoch stays best); an epoch that was not evaluated keeps both.
    /// </summary>
    public EpochSummary Apply(EpochMetric metric)
    {
        var summary = this with { EpochsCompleted = Math.Max(EpochsCompleted, metric.Epoch) };
        if (metric.TestAccuracy is { } testAccuracy)
        {
            summary = summary with { LastTestAccuracy = testAccuracy };
        }
        if (SelectionAccuracy(metric) is not { } accuracy)
        {
            return summary;
        }
        var validated = metric.ValidationLoss is not null;
        var best = validated ? BestValidationAccuracy : BestTestAccuracy;
        return best is not { } bestSoFar || accuracy > bestSoFar
            ? summary with { BestTestAccuracy = metric.TestAccuracy, BestEpoch = metric.Epoch, BestValidationAccuracy = validated ? accuracy : null }
            : summary;
    }
}
