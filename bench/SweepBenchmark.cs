using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Experiments.Domain.Sweeps;

namespace Experiments.Bench;

/// <summary>
/// What early termination saves on real training: the sweep of samples/sweep-mnist-grid.json (a grid of 8 on the MNIST
/// sample), run by the service in full and under its asha, from each seed of <c>--seeds</c> (default 2026,1,2). The seed
/// sets the grid's order, which asha's decisions depend on, and the trials' initial weights. Reports the epochs each
/// trained, their ratio, and each one's best validation accuracy.
/// </summary>
public static class SweepBenchmark
{
    public const string Name = "sweep";

    public static async Task RunAsync(string[] args)
    {
        var seeds = (args.SkipWhile(a => a != "--seeds").Skip(1).FirstOrDefault() ?? "2026,1,2").Split(',').Select(long.Parse).ToList();
        var dataFolder = ServiceBenchmarks.NewDataFolder();
        await using var service = await ServiceClient.StartAsync(dataFolder);
        var mnist = await service.ImportAsync(MnistSample.Path, ("name", "mnist"), ("scale", "1/255"), ("reshape", "1,28,28"));
        var mlp = await service.CreateModelAsync("mnist-mlp",
            """[{"type": "flatten"}, {"type": "linear", "outFeatures": 64}, {"type": "relu"}, {"type": "linear", "outFeatures": 10}]""");
        var template = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(ServiceClient.RepositoryRoot(), "samples", "sweep-mnist-grid.json")))!.AsObject();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"samples/sweep-mnist-grid.json on {mnist.TrainCount} training samples, seeds {string.Join(", ", seeds)}, load {Machine.LoadAverage():F2}"));
        Console.WriteLine("| seed | full grid: epochs, best, seconds | asha: epochs, best, seconds | asha/full epochs | best difference (points) | trials pruned |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (var seed in seeds)
        {
            var (full, fullSeconds) = await SweepAsync(service, template, mnist.Id, mlp.Id, seed, asha: false);
            var (asha, ashaSeconds) = await SweepAsync(service, template, mnist.Id, mlp.Id, seed, asha: true);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {seed} | {full.Budget.EpochsUsed}, {full.Best!.Value:F4}, {fullSeconds:F1} | {asha.Budget.EpochsUsed}, {asha.Best!.Value:F4}, {ashaSeconds:F1} | "
                + $"{(double)asha.Budget.EpochsUsed / full.Budget.EpochsUsed:F3} | {100 * (full.Best.Value - asha.Best.Value):F2} | "
                + $"{asha.Trials.Count(trial => trial.Pruning is not null)} of {asha.Trials.Count} |"));
        }
        Console.WriteLine($"load {Machine.LoadAverage().ToString("F2", CultureInfo.InvariantCulture)}");
        Directory.Delete(dataFolder, recursive: true);
    }

    private static async Task<(SweepView Sweep, double Seconds)> SweepAsync(ServiceClient service, JsonObject template, Guid datasetId, Guid modelId, long seed, bool asha)
    {
        var spec = template.DeepClone().AsObject();
        spec["base"]!["datasetId"] = datasetId.ToString();
        spec["base"]!["modelId"] = modelId.ToString();
        spec["seed"] = seed;
        if (!asha)
        {
            spec["earlyTermination"] = new JsonObject { ["type"] = "none" };
        }
        var started = Stopwatch.GetTimestamp();
        var sweep = await service.WaitForSweepAsync((await service.CreateSweepAsync(spec)).Id);
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        return sweep.Status == SweepStatus.Succeeded ? (sweep, seconds) : throw new InvalidOperationException($"sweep {sweep.Id} {sweep.Status}: {sweep.Error}");
    }
}
