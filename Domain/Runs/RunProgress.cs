namespace Experiments.Domain.Runs;

/// <summary>How far a run is, from 0 to 1, as the dashboard's progress bars show it.</summary>
public static class RunProgress
{
    /// <summary>
    /// The completed epochs plus the part of the next epoch that <paramref name="batch"/> reports done, over all
    /// <paramref name="epochs"/>. A batch report of any other epoch (late, or of an epoch already counted) adds
    /// nothing; a run of no epochs is at 0.
    /// </summary>
    public static double Fraction(int epochsCompleted, int epochs, BatchProgress? batch)
    {
        if (epochs == 0)
        {
            return 0;
        }
        var partial = batch is not null && batch.Epoch == epochsCompleted + 1 && batch.BatchesPerEpoch > 0
            ? (double)batch.Batch / batch.BatchesPerEpoch
            : 0;
        return (epochsCompleted + partial) / epochs;
    }
}
