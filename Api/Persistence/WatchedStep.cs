using Experiments.Domain.Runs;

namespace Experiments.Api.Persistence;

/// <summary>One snapshot a run's <c>watch</c> recorded, stored whole as JSON; keyed by run and step.</summary>
public sealed class WatchedStep
{
    public Guid RunId { get; set; }

    public long Step { get; set; }

    /// <summary>The epoch of the step: a resumed run drops the snapshots after its checkpoint's epoch.</summary>
    public int Epoch { get; set; }

    public LayerSnapshot Snapshot { get; set; } = null!;
}
