using Experiments.Domain.Runs;

namespace Experiments.Web.Runs;

/// <summary>Which workers trained which epochs of a run (<see cref="RunView.TrainedBy"/>), as the run page shows and extends it.</summary>
public static class TrainedBy
{
    /// <summary>"worker-b:1a2b3c4d (epochs 1–4), worker-a:5e6f7a8b (epochs 5–10)".</summary>
    public static string Describe(IReadOnlyList<WorkerEpochs> ranges) =>
        string.Join(", ", ranges.Select(range => $"{range.Worker ?? "an unrecorded worker"} ({Format.Epochs(range.FirstEpoch, range.LastEpoch)})"));

    /// <summary>
    /// The ranges after a pushed <paramref name="epoch"/>, trained by <paramref name="worker"/>: the worker holding the run
    /// when it was last read (every claim of a run, a resume included, pushes a status change, on which the page reads the
    /// run). The last range grows when that worker trained the epoch before; a range starts otherwise. An epoch that does
    /// not follow the last range (trained again after a resume, or one after a gap, which makes the page read the run
    /// anyway), or a worker not known, leaves the ranges as they are until the next read.
    /// </summary>
    public static IReadOnlyList<WorkerEpochs> After(IReadOnlyList<WorkerEpochs> ranges, string? worker, int epoch)
    {
        var lastEpoch = ranges.Count == 0 ? 0 : ranges[^1].LastEpoch;
        if (worker is null || epoch != lastEpoch + 1)
        {
            return ranges;
        }
        var extended = ranges.ToList();
        WorkerEpochs.Add(extended, worker, epoch);
        return extended;
    }
}
