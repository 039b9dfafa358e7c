using Experiments.Bench;

// Benchmarks of Experiments, one class each: `dotnet run --project bench -c Release -- <name> [options]`.
// Each prints what it measured and the machine it ran on; docs/benchmarks.md keeps the numbers.
var benchmarks = new Dictionary<string, Func<string[], Task>>(StringComparer.OrdinalIgnoreCase)
{
    [ImportBenchmark.Name] = ImportBenchmark.RunAsync,
    [LoaderBenchmark.Name] = LoaderBenchmark.RunAsync,
    [OverheadBenchmark.Name] = OverheadBenchmark.RunAsync,
    ["latency"] = ServiceBenchmarks.LatencyAsync,
    ["memory"] = ServiceBenchmarks.MemoryAsync,
    ["events"] = ServiceBenchmarks.EventsAsync,
};

if (args.Length == 0 || !benchmarks.TryGetValue(args[0], out var run))
{
    Console.Error.WriteLine($"usage: dotnet run --project bench -c Release -- <{string.Join("|", benchmarks.Keys)}> [--rows N]");
    return 2;
}
Console.WriteLine(Machine.Describe());
await run(args[1..]);
return 0;
