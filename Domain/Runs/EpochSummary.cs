namespace Experiments.Domain.Runs;

/// <summary>
/// What a run's epochs add up to: how many completed, the last and the best test accuracy, and the epoch of the
/// best. The run entity, the trainer's checkpoint and the dashboard's live views all fold epochs into it with
/// <see cref="Apply"/>, so they agree on what "best" means.
/// </summary>
public sealed record EpochSummary(int EpochsCompleted, double? LastTestAccuracy, double? BestTestAccuracy, int? BestEpoch)
{
    /// <summary>A run before its first epoch.</summary>
    public static EpochSummary None { get; } = new(0, null, null, null);

    /// <summary>
    /// The summary after <paramref name="epoch"/>: epochs completed never move back; an epoch evaluated on the
    /// test split sets the last accuracy, and becomes the best only when strictly more accurate than the best so
    /// far (on a tie the earlier epoch stays best); an epoch that was not evaluated keeps both.
    /// </summary>
    public EpochSummary Apply(int epoch, double? testAccuracy)
    {
        var summary = this with { EpochsCompleted = Math.Max(EpochsCompleted, epoch) };
        if (testAccuracy is not { } accuracy)
        {
            return summary;
        }
        return BestTestAccuracy is not { } best || accuracy > best
            ? summary with { LastTestAccuracy = accuracy, BestTestAccuracy = accuracy, BestEpoch = epoch }
            : summary with { LastTestAccuracy = accuracy };
    }
}
