namespace Experiments.Domain.Runs;

/// <summary>
/// What <c>watch</c> recorded at one step of a run: each parameter tensor (after its gradient was computed and clipped,
/// and across that step's optimizer step) and each layer's output in that step's forward pass. A statistic that was not
/// finite (NaN or infinite) is null.
/// </summary>
public sealed record LayerSnapshot(long Step, int Epoch, int Batch, IReadOnlyList<ParameterStatistics> Parameters, IReadOnlyList<ActivationStatistics> Activations);

/// <param name="Name">The spec's layer path and the parameter, e.g. <c>layers[0].weight</c>, <c>layers[2].layers[0].bias</c>.</param>
/// <param name="WeightNorm">‖w‖₂ before the step.</param>
/// <param name="GradientNorm">‖∇w‖₂ as the optimizer used it (after clipping).</param>
/// <param name="UpdateRatio">‖w_after − w_before‖₂ / ‖w_before‖₂ across the optimizer step; around 1e-3 is the usual healthy size.</param>
/// <param name="Weights">The weights' histogram before the step.</param>
/// <param name="Gradients">The gradient's histogram; null when the tensor got no gradient.</param>
public sealed record ParameterStatistics(string Name, double? WeightNorm, double? GradientNorm, double? UpdateRatio, Histogram Weights, Histogram? Gradients);

/// <param name="Layer">The spec's layer path, e.g. <c>layers[1]</c>.</param>
/// <param name="Type">The layer's type, e.g. <c>relu</c>.</param>
/// <param name="Mean">The mean of the layer's output over the batch.</param>
/// <param name="Std">Its standard deviation.</param>
/// <param name="DeadFraction">
/// The fraction of dead units: relu: of the output's units (its elements per sample) that are 0 for every sample of the
/// batch, so that no gradient flows through them; leakyRelu, elu and gelu: that are ≤ 0 (their flat side) for every sample.
/// Null for other types.
/// </param>
/// <param name="SaturatedFraction">sigmoid: the fraction of outputs below 0.01 or above 0.99; tanh: with |y| above 0.99. Null for other types.</param>
public sealed record ActivationStatistics(string Layer, string Type, double? Mean, double? Std, double? DeadFraction, double? SaturatedFraction);

/// <summary>Equal-width bins from <see cref="Min"/> to <see cref="Max"/> (the tensor's own range; non-finite values counted as 0); the counts add up to the tensor's size.</summary>
public sealed record Histogram(double Min, double Max, long[] Counts);

/// <summary>
/// A run's watched steps as series ready to plot: index i of every array is the same step. <see cref="NextFrom"/> is set when
/// the answer stopped at its limit of steps: ask again with <c>from</c> set to it for the rest.
/// </summary>
public sealed record RunLayerSeries(
    long[] Step,
    int[] Epoch,
    int[] Batch,
    IReadOnlyList<ParameterSeries> Parameters,
    IReadOnlyList<ActivationSeries> Activations,
    long? NextFrom)
{
    /// <summary>The most steps one answer holds; a run's snapshots hold at most <see cref="WatchSpec.MaxValues"/> numbers in all.</summary>
    public const int MaxSteps = 500;

    public static RunLayerSeries Empty { get; } = new([], [], [], [], [], null);

    /// <summary>
    /// These series followed by <paramref name="next"/>'s (steps after these: the next answer, or a pushed snapshot), aligned by
    /// name; a tensor or layer missing from one side has nulls there. <see cref="NextFrom"/> is <paramref name="next"/>'s.
    /// </summary>
    public RunLayerSeries Concat(RunLayerSeries next)
    {
        var (count, nextCount) = (Step.Length, next.Step.Length);
        var parameters = Parameters.ToDictionary(series => series.Name);
        var nextParameters = next.Parameters.ToDictionary(series => series.Name);
        var activations = Activations.ToDictionary(series => series.Layer);
        var nextActivations = next.Activations.ToDictionary(series => series.Layer);
        return new RunLayerSeries(
            [.. Step, .. next.Step],
            [.. Epoch, .. next.Epoch],
            [.. Batch, .. next.Batch],
            [.. parameters.Keys.Concat(nextParameters.Keys).Distinct().Select(name => ParameterSeries.Join(
                parameters.GetValueOrDefault(name) ?? ParameterSeries.Missing(name, count), nextParameters.GetValueOrDefault(name) ?? ParameterSeries.Missing(name, nextCount)))],
            [.. Activations.Concat(next.Activations).DistinctBy(series => series.Layer).Select(layer => ActivationSeries.Join(
                activations.GetValueOrDefault(layer.Layer) ?? ActivationSeries.Missing(layer.Layer, layer.Type, count),
                nextActivations.GetValueOrDefault(layer.Layer) ?? ActivationSeries.Missing(layer.Layer, layer.Type, nextCount)))],
            next.NextFrom);
    }

    /// <summary>The series with a pushed <paramref name="snapshot"/> at the end; unchanged when it is not after the last step.</summary>
    public RunLayerSeries Append(LayerSnapshot snapshot) =>
        Step.Length > 0 && snapshot.Step <= Step[^1] ? this : Concat(From([snapshot], null)) with { NextFrom = NextFrom };

    /// <summary>
    /// The series of <paramref name="snapshots"/> (in step order), of the parameters and layers named <paramref name="layer"/> or
    /// under it (<c>layers[0]</c> takes <c>layers[0].weight</c> and <c>layers[0].bias</c>) when it is set; a tensor or layer
    /// missing from a step has nulls there.
    /// </summary>
    public static RunLayerSeries From(IReadOnlyList<LayerSnapshot> snapshots, long? nextFrom, string? layer = null)
    {
        bool Wanted(string name) => layer is null || name == layer || name.StartsWith(layer + ".", StringComparison.Ordinal)
            || name.StartsWith(layer + "[", StringComparison.Ordinal);
        var count = snapshots.Count;
        var parametersOf = snapshots.Select(snapshot => snapshot.Parameters.ToDictionary(parameter => parameter.Name)).ToList();
        var activationsOf = snapshots.Select(snapshot => snapshot.Activations.ToDictionary(activation => activation.Layer)).ToList();
        var parameters = snapshots.SelectMany(snapshot => snapshot.Parameters).Select(parameter => parameter.Name).Where(Wanted).Distinct().ToList();
        var activations = snapshots.SelectMany(snapshot => snapshot.Activations).Select(activation => (activation.Layer, activation.Type))
            .Where(activation => Wanted(activation.Layer)).DistinctBy(activation => activation.Layer).ToList();
        return new RunLayerSeries(
            [.. snapshots.Select(snapshot => snapshot.Step)],
            [.. snapshots.Select(snapshot => snapshot.Epoch)],
            [.. snapshots.Select(snapshot => snapshot.Batch)],
            [.. parameters.Select(name =>
            {
                var rows = parametersOf.Select(step => step.GetValueOrDefault(name)).ToArray();
                return new ParameterSeries(name,
                    [.. rows.Select(row => row?.WeightNorm)],
                    [.. rows.Select(row => row?.GradientNorm)],
                    [.. rows.Select(row => row?.UpdateRatio)],
                    HistogramSeries.From(rows.Select(row => row?.Weights)),
                    HistogramSeries.From(rows.Select(row => row?.Gradients)));
            })],
            [.. activations.Select(activation =>
            {
                var rows = activationsOf.Select(step => step.GetValueOrDefault(activation.Layer)).ToArray();
                return new ActivationSeries(activation.Layer, activation.Type,
                    [.. rows.Select(row => row?.Mean)],
                    [.. rows.Select(row => row?.Std)],
                    [.. rows.Select(row => row?.DeadFraction)],
                    [.. rows.Select(row => row?.SaturatedFraction)]);
            })],
            count == 0 ? null : nextFrom);
    }
}

/// <summary>One parameter tensor over the steps; its histograms as step × bin matrices.</summary>
public sealed record ParameterSeries(string Name, double?[] WeightNorm, double?[] GradientNorm, double?[] UpdateRatio, HistogramSeries Weights, HistogramSeries Gradients)
{
    internal static ParameterSeries Missing(string name, int count) =>
        new(name, new double?[count], new double?[count], new double?[count], HistogramSeries.Missing(count), HistogramSeries.Missing(count));

    internal static ParameterSeries Join(ParameterSeries first, ParameterSeries then) => new(first.Name,
        [.. first.WeightNorm, .. then.WeightNorm], [.. first.GradientNorm, .. then.GradientNorm], [.. first.UpdateRatio, .. then.UpdateRatio],
        HistogramSeries.Join(first.Weights, then.Weights), HistogramSeries.Join(first.Gradients, then.Gradients));
}

/// <summary>Histograms over steps: row i is step i (empty when that step had none), with that step's range.</summary>
public sealed record HistogramSeries(double?[] Min, double?[] Max, long[][] Counts)
{
    public static HistogramSeries From(IEnumerable<Histogram?> histograms)
    {
        var rows = histograms.ToList();
        return new HistogramSeries([.. rows.Select(row => row?.Min)], [.. rows.Select(row => row?.Max)], [.. rows.Select(row => row?.Counts ?? [])]);
    }

    internal static HistogramSeries Missing(int count) => new(new double?[count], new double?[count], [.. Enumerable.Repeat(Array.Empty<long>(), count)]);

    internal static HistogramSeries Join(HistogramSeries first, HistogramSeries then) =>
        new([.. first.Min, .. then.Min], [.. first.Max, .. then.Max], [.. first.Counts, .. then.Counts]);
}

/// <summary>One layer's output statistics over the steps.</summary>
public sealed record ActivationSeries(string Layer, string Type, double?[] Mean, double?[] Std, double?[] DeadFraction, double?[] SaturatedFraction)
{
    internal static ActivationSeries Missing(string layer, string type, int count) =>
        new(layer, type, new double?[count], new double?[count], new double?[count], new double?[count]);

    internal static ActivationSeries Join(ActivationSeries first, ActivationSeries then) => new(first.Layer, first.Type,
        [.. first.Mean, .. then.Mean], [.. first.Std, .. then.Std], [.. first.DeadFraction, .. then.DeadFraction], [.. first.SaturatedFraction, .. then.SaturatedFraction]);
}
