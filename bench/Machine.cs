using System.Globalization;
using System.Runtime.InteropServices;

namespace Experiments.Bench;

/// <summary>What a benchmark ran on, and small helpers every benchmark uses.</summary>
public static class Machine
{
    public static string Describe()
    {
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(line => line.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        return string.Create(CultureInfo.InvariantCulture,
            $"machine: {Environment.ProcessorCount} cores, {cpu ?? RuntimeInformation.ProcessArchitecture.ToString()}, {RuntimeInformation.OSDescription}, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd}");
    }

    /// <summary>The process's peak resident memory (VmHWM) in MiB, where Linux reports it.</summary>
    public static double PeakResidentMiB()
    {
        var line = File.Exists("/proc/self/status") ? File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal)) : null;
        return line is null ? double.NaN : double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
    }

    /// <summary>The one-minute load average (/proc/loadavg), where Linux reports it: how many others shared the cores.</summary>
    public static double LoadAverage()
    {
        var line = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg") : null;
        return line is null ? double.NaN : double.Parse(line.Split(' ')[0], CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// CPU seconds the whole machine has spent busy since boot, all cores and processes (/proc/stat: everything but idle
    /// and iowait, in Linux's 100 ticks a second); NaN elsewhere.
    /// </summary>
    public static double BusyCpuSeconds()
    {
        var line = File.Exists("/proc/stat") ? File.ReadLines("/proc/stat").First() : null;
        if (line is null)
        {
            return double.NaN;
        }
        // "cpu user nice system idle iowait irq softirq steal guest guest_nice"; guest time is counted in user already.
        var ticks = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8).Select(field => long.Parse(field, CultureInfo.InvariantCulture)).ToArray();
        return (ticks.Sum() - ticks[3] - ticks[4]) / 100.0;
    }

    public static int Option(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
    }

    public static string TemporaryFolder()
    {
        var folder = Path.Combine(Path.GetTempPath(), "experiments-bench", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        return folder;
    }
}

/// <summary>
/// Wall time and the process's CPU time since a start. On a shared machine CPU time is the steadier measure:
/// other processes stretch wall time, not the CPU time this process spends.
/// </summary>
public sealed class Clock
{
    private readonly System.Diagnostics.Stopwatch _wall = System.Diagnostics.Stopwatch.StartNew();
    private readonly TimeSpan _cpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;

    public static Clock Start() => new();

    public Lap Elapsed => new(_wall.Elapsed.TotalSeconds, (System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - _cpu).TotalSeconds);

    public readonly record struct Lap(double WallSeconds, double CpuSeconds)
    {
        public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{WallSeconds:F2} s wall / {CpuSeconds:F2} s CPU");
    }
}
