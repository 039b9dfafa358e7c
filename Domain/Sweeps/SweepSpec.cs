using System.Text.Json;
using Experiments.Domain.Runs;

namespace Experiments.Domain.Sweeps;

/// <summary>
/// A hyperparameter search, as sent to <c>POST /api/sweeps</c>: a base run spec, the fields to search (by path), how to
/// choose each trial's values, what to optimize, how much to spend and when to stop a trial early. A sweep stores the
/// resolved copy (every default filled in), from which its controller draws every trial.
/// </summary>
public sealed record SweepSpec
{
    /// <summary>Shown in lists; optional.</summary>
    public string? Name { get; init; }

    /// <summary>The run spec every trial starts from; the searched fields replace its values.</summary>
    public RunSpec? Base { get; init; }

    /// <summary>
    /// The search space: a spec field's path (<c>optimizer.lr</c>, <c>batchSize</c>, <c>modelId</c>, <c>layers[2].outFeatures</c>)
    /// → how its values are drawn. <c>layers[i]…</c> changes the trial's model: the changed stack is saved as a model version.
    /// </summary>
    public IReadOnlyDictionary<string, SweepParameter>? Parameters { get; init; }

    public SweepMethod? Method { get; init; }

    /// <summary>What a trial is judged by: its best epoch's value of this metric. Default validationAccuracy (classification), validationLoss (regression).</summary>
    public SweepMetric? Metric { get; init; }

    /// <summary>Default: maximize an accuracy, minimize a loss.</summary>
    public SweepGoal? Goal { get; init; }

    public SweepBudget? Budget { get; init; }

    public EarlyTerminationSpec? EarlyTermination { get; init; }

    /// <summary>Seeds the choice of every trial (and the grid's order); a sweep sent again with the same seed draws the same trials.</summary>
    public long? Seed { get; init; }
}

/// <summary>How one field's values are drawn.</summary>
public sealed record SweepParameter
{
    /// <summary>How values are drawn; may be left out when <see cref="Values"/> or <see cref="Options"/> list them (a choice).</summary>
    public ParameterDistribution? Type { get; init; }

    /// <summary>The values of a <c>choice</c>: any JSON (numbers, strings, a whole optimizer or layer object, model ids).</summary>
    public IReadOnlyList<JsonElement>? Values { get; init; }

    /// <summary>The values of a <c>choice</c> that each bring a sub-space of their own, searched only when the value is chosen.</summary>
    public IReadOnlyList<SweepOption>? Options { get; init; }

    /// <summary>The lowest value of a range (inclusive).</summary>
    public double? Min { get; init; }

    /// <summary>The highest value of a range (inclusive).</summary>
    public double? Max { get; init; }
}

/// <summary>A value of a choice with the fields searched only when it is chosen, e.g. sgd with its momentum.</summary>
public sealed record SweepOption
{
    public JsonElement Value { get; init; }

    public IReadOnlyDictionary<string, SweepParameter>? Parameters { get; init; }
}

public enum ParameterDistribution
{
    /// <summary>One of the listed values.</summary>
    Choice,

    /// <summary>A number drawn evenly between min and max.</summary>
    Uniform,

    /// <summary>A number whose logarithm is drawn evenly: learning rates, weight decay. min must be greater than 0.</summary>
    LogUniform,

    /// <summary>A whole number between min and max, inclusive.</summary>
    Int,

    /// <summary>A whole number whose logarithm is drawn evenly: layer widths. min must be at least 1.</summary>
    LogInt,
}

public enum SweepMethod
{
    /// <summary>Every combination once, in an order shuffled by the seed.</summary>
    Grid,

    /// <summary>Each trial's values drawn independently from the seed and the trial's number.</summary>
    Random,

    /// <summary>Tree-structured Parzen estimator: random for the first trials, then values that did well so far.</summary>
    Tpe,
}

public enum SweepMetric
{
    ValidationAccuracy,
    ValidationLoss,
    TestAccuracy,
    TestLoss,
}

public enum SweepGoal
{
    Maximize,
    Minimize,
}

/// <summary>How much a sweep may spend. It ends when a limit is reached, or when a grid has no combination left.</summary>
public sealed record SweepBudget
{
    /// <summary>Trials to run in all (a grid: at most its size, which is the default).</summary>
    public int? MaxTrials { get; init; }

    /// <summary>Trials queued or running at once. Default 1.</summary>
    public int? Concurrency { get; init; }

    /// <summary>Epochs to train over all trials: no trial starts once they are used (the running ones finish).</summary>
    public int? MaxEpochs { get; init; }
}

public enum EarlyTerminationType
{
    None,

    /// <summary>Asynchronous successive halving: at epochs min·η^k a trial not among the best 1/η so far is stopped.</summary>
    Asha,

    /// <summary>From warmupEpochs on, a trial whose best so far is worse than the median of the others at that epoch is stopped.</summary>
    Median,
}

/// <summary>When a trial is stopped early (and ends <c>succeeded</c> with <c>stopReason: pruned</c>).</summary>
public sealed record EarlyTerminationSpec
{
    public EarlyTerminationType? Type { get; init; }

    /// <summary>asha: the first rung, in epochs. Default 1.</summary>
    public int? MinEpochs { get; init; }

    /// <summary>asha: the epochs of a trial never stopped; the base's epochs (the default).</summary>
    public int? MaxEpochs { get; init; }

    /// <summary>asha: η, rungs are η times apart and keep the best 1/η. Default 3.</summary>
    public int? ReductionFactor { get; init; }

    /// <summary>median: epochs before any comparison. Default 1.</summary>
    public int? WarmupEpochs { get; init; }

    /// <summary>
    /// Values at an epoch needed before a trial is judged there (so a trial is never stopped by one comparison): asha,
    /// values at the rung, this trial's included (default η); median, other trials' values (default 3).
    /// </summary>
    public int? MinTrials { get; init; }
}
