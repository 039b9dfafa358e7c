using System.Globalization;

namespace Experiments.Web;

/// <summary>How the dashboard writes numbers, durations and times: the same everywhere, whatever the server's culture.</summary>
public static class Format
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static string Percent(double? value) => value is { } v ? v.ToString("P1", Invariant) : "–";

    public static string Number(double? value, string format = "G4") => value is { } v ? v.ToString(format, Invariant) : "–";

    public static string Count(long value) => value.ToString("N0", Invariant);

    public static string Shape(IEnumerable<int> shape) => $"[{string.Join(", ", shape)}]";

    public static string ShortId(Guid id) => id.ToString("N")[..8];

    public static string When(DateTimeOffset time) => time.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", Invariant);

    public static string Duration(TimeSpan? span) => span switch
    {
        null => "–",
        { TotalSeconds: < 60 } s => $"{s.TotalSeconds.ToString("0.0", Invariant)} s",
        { TotalMinutes: < 60 } s => $"{(int)s.TotalMinutes} min {s.Seconds} s",
        var s => $"{(int)s.Value.TotalHours} h {s.Value.Minutes} min",
    };

    /// <summary>
    /// How long before <paramref name="now"/> <paramref name="time"/> was, in its largest whole unit: "4 s ago", "3 min ago".
    /// A time written by another machine's clock can be slightly ahead of this one's; it reads "just now".
    /// </summary>
    public static string Ago(DateTimeOffset time, DateTimeOffset now) => (now - time) switch
    {
        { TotalSeconds: < 1 } => "just now",
        { TotalMinutes: < 1 } s => $"{(int)s.TotalSeconds} s ago",
        { TotalHours: < 1 } s => $"{(int)s.TotalMinutes} min ago",
        { TotalDays: < 1 } s => $"{(int)s.TotalHours} h ago",
        var s => $"{(int)s.TotalDays} d ago",
    };

    /// <summary>"epoch 3", or "epochs 1–4".</summary>
    public static string Epochs(int first, int last) => first == last ? $"epoch {first}" : $"epochs {first}–{last}";

    /// <summary>How long a run trained: until it finished, or until <paramref name="now"/> while it runs.</summary>
    public static TimeSpan? RunDuration(DateTimeOffset? startedAt, DateTimeOffset? finishedAt, DateTimeOffset now) =>
        startedAt is { } start ? (finishedAt ?? now) - start : null;

    public static string Bytes(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => $"{(bytes / 1024.0).ToString("0.0", Invariant)} KB",
        _ => $"{(bytes / (1024.0 * 1024)).ToString("0.0", Invariant)} MB",
    };
}
