namespace Experiments.Training.Runtime;

/// <summary>
/// libtorch's errors reach .NET as TorchSharp exceptions whose message ends with a C++ stack dump:
/// <c>Exception raised from alloc_cpu at …</c>, then <c>frame #0: c10::Error::Error(…) + 0x…</c> lines. A run's
/// error is read by people; the dump belongs in the service log, which keeps the whole exception.
/// </summary>
public static class NativeErrors
{
    /// <summary>The most characters of a message kept.</summary>
    public const int MaxLength = 1000;

    /// <summary>The message's lines before any native stack dump, joined into one line and at most <see cref="MaxLength"/> characters.</summary>
    public static string WithoutStackDump(string message)
    {
        var kept = new List<string>();
        foreach (var raw in message.Split('\n'))
        {
            var line = raw.Trim();
            if (line.StartsWith("Exception raised from", StringComparison.Ordinal) || line.StartsWith("frame #", StringComparison.Ordinal))
            {
                break;
            }
            if (line.Length > 0)
            {
                kept.Add(line);
            }
        }
        var text = kept.Count == 0 ? "libtorch failed without a message; the service log has its stack dump." : string.Join(" ", kept);
        return text.Length <= MaxLength ? text : string.Concat(text.AsSpan(0, MaxLength - 1), "…");
    }
}
