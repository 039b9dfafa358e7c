using Experiments.Domain.Runs;
using Experiments.Web.Components.Charts;

namespace Experiments.Web.Runs;

/// <summary>
/// The epochs of one run as the dashboard shows them, keyed by epoch. Pushed epochs and epochs read back from the
/// queries merge into the same place, so an epoch that arrives twice (pushed and read after a reconnection) is
/// shown once, and a resumed run's re-trained epoch replaces the old one.
/// </summary>
public sealed class RunSeries
{
    private readonly SortedList<int, EpochMetric> _epochs = [];

    /// <summary>Changes whenever an epoch is added or replaced; charts redraw when it moves.</summary>
    public int Version { get; private set; }

    public IList<EpochMetric> Epochs => _epochs.Values;

    public int LastEpoch => _epochs.Count == 0 ? 0 : _epochs.Keys[^1];

    /// <summary>Adds a pushed epoch. Returns false when epochs before it are missing, so the caller reads them.</summary>
    public bool Add(EpochMetric metric)
    {
        var contiguous = metric.Epoch <= LastEpoch + 1;
        Upsert(metric);
        return contiguous;
    }

    /// <summary>Merges epochs read from the queries with those already here.</summary>
    public void Merge(IEnumerable<EpochMetric> metrics)
    {
        foreach (var metric in metrics)
        {
            Upsert(metric);
        }
    }

    /// <summary>The loss per epoch: train, validation when the run holds a validation split out, and test.</summary>
    public IReadOnlyList<ChartSeries> LossLines(bool validation) => Splits(validation, m => m.TrainLoss, m => m.ValidationLoss, m => m.TestLoss);

    /// <summary>The accuracy per epoch, split by split as <see cref="LossLines"/>.</summary>
    public IReadOnlyList<ChartSeries> AccuracyLines(bool validation) => Splits(validation, m => m.TrainAccuracy, m => m.ValidationAccuracy, m => m.TestAccuracy);

    public ChartSeries Line(string name, Func<EpochMetric, double?> value, string color, bool dashed = false) =>
        new(name, [.. _epochs.Keys.Select(epoch => (double)epoch)], [.. _epochs.Values.Select(value)], color, dashed);

    private ChartSeries[] Splits(bool validation, Func<EpochMetric, double?> train, Func<EpochMetric, double?> held, Func<EpochMetric, double?> test) => validation
        ? [Line("train", train, ChartColors.Train), Line("validation", held, ChartColors.Validation), Line("test", test, ChartColors.Test)]
        : [Line("train", train, ChartColors.Train), Line("test", test, ChartColors.Test)];

    private void Upsert(EpochMetric metric)
    {
        if (_epochs.TryGetValue(metric.Epoch, out var existing) && existing == metric)
        {
            return;
        }
        _epochs[metric.Epoch] = metric;
        Version++;
    }
}
