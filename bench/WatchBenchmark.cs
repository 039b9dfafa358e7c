using System.Globalization;
using Experiments.Domain.Models;
using Experiments.Domain.Runs;
using Experiments.Domain.Validation;
using Experiments.Training.Runtime;
using static TorchSharp.torch;

namespace Experiments.Bench;

/// <summary>
/// What <c>watch</c> costs training: the MNIST-sample MLP of <see cref="OverheadBenchmark"/> trained by <see cref="Experiments.Training.Trainer"/>
/// in this process, without watch and with <c>watch.every</c> (50 unless <c>--every</c> says otherwise), rounds interleaved so
/// that both see the same machine. Compares the median time of an epoch's training loop (<see cref="EpochMetric.Seconds"/>, which
/// holds every watched step) and of whole epochs (evaluation included). <c>--rounds</c> (default 5) runs of <c>--epochs</c>
/// (default 4) each; the first epoch of a run is left out (warm-up). On a shared machine the wall-clock figures move with the
/// others' load; the process's CPU time per epoch and the fastest epoch of each side are less disturbed by it.
/// </summary>
public static class WatchBenchmark
{
    public const string Name = "watch";

    public static async Task RunAsync(string[] args)
    {
        var device = args.SkipWhile(a => a != "--device").Skip(1).FirstOrDefault() ?? "cpu";
        var rounds = Machine.Option(args, "--rounds", 5);
        var epochs = Machine.Option(args, "--epochs", 4);
        var every = Machine.Option(args, "--every", WatchSpec.DefaultEvery);
        var threads = TrainingThread.DefaultThreads(Environment.ProcessorCount, concurrentRuns: 1);
        var dataFolder = Path.Combine(Path.GetTempPath(), "experiments-bench", Guid.NewGuid().ToString("N"));
        await using var service = await ServiceClient.StartAsync(dataFolder);
        var (_, data) = await OverheadBenchmark.ImportMnistAsync(service, dataFolder);
        var errors = new ValidationErrors();
        var mlp = OverheadBenchmark.Models.Single(model => model.Name == "mlp").Layers;
        var layers = ModelValidator.Resolve(System.Text.Json.JsonSerializer.Deserialize<List<LayerSpec?>>(mlp), errors)!;
        var summary = ModelValidator.InferShapes(layers, data.SampleShape, errors)!;
        var watch = new WatchSpec { Every = every, Bins = WatchSpec.DefaultBins };
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"device {device}, {threads} torch threads, mlp ({summary.TotalParameters:N0} parameters), {data.Train.Count} training samples, {rounds} rounds of {epochs} epochs, watch every {every}, load {Machine.LoadAverage():F2}"));

        await OverheadBenchmark.TrainerEpochsAsync(layers, summary, data, device, threads, epochs: 2); // warm-up
        var (offLoops, onLoops, offEpochs, onEpochs, offCpu, onCpu) = (new List<double>(), new List<double>(), new List<double>(), new List<double>(), new List<double>(), new List<double>());
        for (var round = 0; round < rounds; round++)
        {
            var off = await OverheadBenchmark.TrainerEpochsAsync(layers, summary, data, device, threads, epochs);
            var on = await OverheadBenchmark.TrainerEpochsAsync(layers, summary, data, device, threads, epochs, watch);
            (offLoops, onLoops) = ([.. offLoops, .. off.TrainingLoops], [.. onLoops, .. on.TrainingLoops]);
            (offEpochs, onEpochs) = ([.. offEpochs, .. off.Intervals], [.. onEpochs, .. on.Intervals]);
            (offCpu, onCpu) = ([.. offCpu, .. off.CpuSeconds], [.. onCpu, .. on.CpuSeconds]);
        }

        Console.WriteLine();
        Console.WriteLine("| | watch off | watch every " + every + " | ratio |");
        Console.WriteLine("|---|---|---|---|");
        Row("training loop, median epoch (min–max)", offLoops, onLoops);
        Row("whole epoch, median (min–max)", offEpochs, onEpochs);
        Row("CPU time of this process per epoch, median (min–max)", offCpu, onCpu);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| fastest epoch (least disturbed by other load) | {offEpochs.Min():F3} s | {onEpochs.Min():F3} s | **{onEpochs.Min() / offEpochs.Min():F3}** |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"load average after: {Machine.LoadAverage():F2}"));
    }

    private static void Row(string what, List<double> off, List<double> on) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {what} | {Stats.Median(off):F3} s ({off.Min():F3}–{off.Max():F3}) | {Stats.Median(on):F3} s ({on.Min():F3}–{on.Max():F3}) | **{Stats.Median(on) / Stats.Median(off):F3}** |"));
}
