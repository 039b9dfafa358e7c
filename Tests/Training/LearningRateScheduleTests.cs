using System.Text.Json;
using Experiments.Domain.Schedulers;
using Experiments.Domain.Validation;
using Experiments.Tests.Support;
using Experiments.Training.Schedulers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Experiments.Tests.Training;

/// <summary>
/// Every scheduler is built in TorchSharp and driven the way the trainer drives it; the learning rates it gives
/// are compared with PyTorch's closed forms (lr = 1 here, so the rate is the factor).
/// </summary>
[Collection(OneAtATime.Name)]
public sealed class LearningRateScheduleTests
{
    [Fact]
    public void Without_a_scheduler_the_rate_stays_put() =>
        Assert.Equal([1.0, 1.0, 1.0], EpochRates(null, epochs: 3));

    [Fact]
    public void Step_lr_decays_every_step_size_epochs() =>
        Assert.Equal([1, 1, 0.5, 0.5, 0.25, 0.25], EpochRates("""{"type": "stepLR", "stepSize": 2, "gamma": 0.5}""", epochs: 6), Close);

    [Fact]
    public void Multi_step_lr_decays_at_each_milestone() =>
        Assert.Equal([1, 1, 0.1, 0.1, 0.1, 0.01], EpochRates("""{"type": "multiStepLR", "milestones": [2, 5]}""", epochs: 6), Close);

    [Fact]
    public void Exponential_lr_decays_every_epoch() =>
        Assert.Equal([1, 0.5, 0.25, 0.125], EpochRates("""{"type": "exponentialLR", "gamma": 0.5}""", epochs: 4), Close);

    [Fact]
    public void Cosine_annealing_follows_the_half_cosine() =>
        Assert.Equal(
            Enumerable.Range(0, 5).Select(t => 0.1 + 0.9 * (1 + Math.Cos(Math.PI * t / 4)) / 2),
            EpochRates("""{"type": "cosineAnnealingLR", "tMax": 4, "etaMin": 0.1}""", epochs: 5),
            Close);

    [Fact]
    public void Reduce_on_plateau_cuts_the_rate_when_the_test_loss_stops_improving() =>
        Assert.Equal([1, 1, 1, 1, 0.5, 0.5, 0.25],
            EpochRates("""{"type": "reduceLROnPlateau", "patience": 1, "factor": 0.5}""", epochs: 7, testLoss: epoch => epoch == 1 ? 1.0 : 0.9),
            Close);

    [Fact]
    public void Reduce_on_plateau_watching_accuracy_wants_it_to_rise() =>
        Assert.Equal([1, 1, 1, 0.5],
            EpochRates("""{"type": "reduceLROnPlateau", "monitor": "testAccuracy", "patience": 0, "factor": 0.5}""", epochs: 4, testAccuracy: epoch => epoch == 1 ? 0.5 : 0.6),
            Close);

    [Fact]
    public void Warm_up_rises_linearly_batch_by_batch_and_the_schedule_starts_after_it()
    {
        var rates = BatchRates("""{"type": "stepLR", "stepSize": 1, "gamma": 0.5, "warmupEpochs": 2, "warmupStartFactor": 0.25}""", epochs: 4, batches: 2);

        Assert.Equal([0.25, 0.4375, 0.625, 0.8125, 1, 1, 0.5, 0.5], rates, Close);
    }

    [Fact]
    public void One_cycle_steps_every_batch_and_cycles_adams_beta1()
    {
        using var parameter = new Parameter(zeros(2));
        using var optimizer = optim.Adam([parameter], 1.0);
        var spec = Resolve("""{"type": "oneCycleLR", "maxLr": 1.0, "divFactor": 10, "finalDivFactor": 100, "pctStart": 0.25, "annealStrategy": "linear"}""");
        var schedule = LearningRateSchedule.Create(spec, optimizer, epochs: 2, batchesPerEpoch: 4);
        var rates = new List<double>();
        var beta1 = new List<double>();
        for (var epoch = 1; epoch <= 2; epoch++)
        {
            for (var batch = 0; batch < 4; batch++)
            {
                rates.Add(schedule.LearningRate);
                beta1.Add(((Adam.ParamGroup)optimizer.ParamGroups.First()).Options.beta1!.Value);
                schedule.AfterBatch();
            }
            schedule.AfterEpoch(epoch, 1.0, null);
        }

        // Up from maxLr/divFactor to maxLr over pctStart of 8 steps, then linearly down to maxLr/divFactor/finalDivFactor.
        Assert.Equal([0.1, 1.0, .. Enumerable.Range(2, 6).Select(step => 1 + (0.001 - 1) * (step - 1) / 6.0)], rates, Close);
        Assert.Equal(0.95, beta1[0], 9);
        Assert.Equal(0.85, beta1[1], 9);
        Assert.Equal(0.95, beta1[^1], 9);
    }

    private static readonly IEqualityComparer<double> Close = EqualityComparer<double>.Create((a, b) => Math.Abs(a - b) < 1e-9, value => 0);

    private static SchedulerSpec Resolve(string json)
    {
        var errors = new ValidationErrors();
        var spec = SchedulerCatalog.Instance.Resolve(JsonSerializer.Deserialize<SchedulerSpec>(json), "scheduler", errors);
        Assert.True(errors.IsEmpty, errors.ToString());
        return spec!;
    }

    private static List<double> EpochRates(string? json, int epochs, Func<int, double>? testLoss = null, Func<int, double>? testAccuracy = null) =>
        [.. BatchRates(json, epochs, batches: 1, testLoss, testAccuracy)];

    /// <summary>The rate of every batch, driving the schedule as the trainer does: after each step, and after each epoch's evaluation.</summary>
    private static List<double> BatchRates(string? json, int epochs, int batches, Func<int, double>? testLoss = null, Func<int, double>? testAccuracy = null)
    {
        using var parameter = new Parameter(zeros(2));
        using var optimizer = optim.SGD([parameter], 1.0);
        var schedule = LearningRateSchedule.Create(json is null ? null : Resolve(json), optimizer, epochs, batches);
        var rates = new List<double>();
        for (var epoch = 1; epoch <= epochs; epoch++)
        {
            for (var batch = 0; batch < batches; batch++)
            {
                rates.Add(schedule.LearningRate);
                schedule.AfterBatch();
            }
            schedule.AfterEpoch(epoch, testLoss?.Invoke(epoch) ?? 1.0, testAccuracy?.Invoke(epoch));
        }
        return rates;
    }
}
