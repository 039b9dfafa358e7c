namespace Experiments.Api.Persistence;

/// <summary>One line of a run's own log, in the order written.</summary>
public sealed class RunLogEntry
{
    public long Id { get; set; }

    public Guid RunId { get; set; }

    public DateTimeOffset Timestamp { get; set; }

    public string Level { get; set; } = "info";

    public string Message { get; set; } = "";
}
