using Experiments.Bench;

// Benchmarks of Experiments, one class each: `dotnet run --project bench -c Release -- <name> [options]`.
// Each prints what it measured and the machine it ran on; docs/benchmarks.md keeps the numbers.
var benchmarks = new Dictionary<string, Func<string[], Task>>(StringComparer.OrdinalIgnoreCase)
{
    [ImportBenchmark.Name] = ImportBenchmark.RunAsync,
    [HostileImportBenchmark.Name] = HostileImportBenchmark.RunAsync,
    [LoaderBenchmark.Name] = LoaderBenchmark.RunAsync,
    [OverheadBenchmark.Name] = OverheadBenchmark.RunAsync,
    [WatchBenchmark.Name] = WatchBenchmark.RunAsync,
    ["latency"] = ServiceBenchmarks.LatencyAsync,
    ["memory"] = ServiceBenchmarks.MemoryAsync,
    ["events"] = ServiceBenchmarks.EventsAsync,
    [ApiBenchmark.Name] = ApiBenchmark.RunAsync,
    [HeldLoadBenchmark.Name] = HeldLoadBenchmark.RunAsync,
    [ScaleOutBenchmark.Name] = ScaleOutBenchmark.RunAsync,
    [SweepBenchmark.Name] = SweepBenchmark.RunAsync,
};

if (args is ["all", ..])
{
    // Every benchmark in turn, printed and written to bench/results/report-<time>.md.
    var report = Path.Combine(ServiceClient.RepositoryRoot(), "bench", "results", $"report-{DateTime.UtcNow:yyyyMMdd-HHmmss}.md");
    Directory.CreateDirectory(Path.GetDirectoryName(report)!);
    await using var file = new StreamWriter(report);
    var console = Console.Out;
    Console.SetOut(new TeeWriter(console, file));
    Console.WriteLine(Machine.Describe());
    foreach (var (name, benchmark) in benchmarks)
    {
        Console.WriteLine($"\n## {name}\n");
        await benchmark(args[1..]);
    }
    Console.SetOut(console);
    Console.WriteLine($"report written to {report}");
    return 0;
}
if (args.Length == 0 || !benchmarks.TryGetValue(args[0], out var run))
{
    Console.Error.WriteLine($"usage: dotnet run --project bench -c Release -- <all|{string.Join("|", benchmarks.Keys)}> [options]");
    return 2;
}
Console.WriteLine(Machine.Describe());
await run(args[1..]);
return 0;

/// <summary>Writes everything to the console and to the report file.</summary>
internal sealed class TeeWriter(TextWriter first, TextWriter second) : TextWriter
{
    public override System.Text.Encoding Encoding => first.Encoding;

    public override void Write(char value)
    {
        first.Write(value);
        second.Write(value);
    }

    public override void Write(string? value)
    {
        first.Write(value);
        second.Write(value);
    }

    public override void WriteLine(string? value)
    {
        first.WriteLine(value);
        second.WriteLine(value);
    }
}
