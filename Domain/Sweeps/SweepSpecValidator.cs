using Experiments.Domain.Datasets;
using Experiments.Domain.Validation;

namespace Experiments.Domain.Sweeps;

/// <summary>Checks a sweep spec on its own (the trials' run specs are checked against the data by the service) and fills in its defaults.</summary>
public static class SweepSpecValidator
{
    public const int MaxTrials = 1_000;
    public const int MaxConcurrency = 64;
    public const int MaxEpochsBudget = 10_000_000;
    public const int MaxNameLength = 200;
    public const int MaxReductionFactor = 100;

    /// <summary>The fraction of the training split a sweep's trials hold out when the metric is a validation one and the base holds none out.</summary>
    public const double DefaultValidationFraction = 0.1;

    /// <summary>The resolved spec and its space, or null with the problems added.</summary>
    /// <param name="spec">As sent.</param>
    /// <param name="randomSeed">The seed when none was sent.</param>
    /// <param name="task">The base dataset's task, which sets the default metric; null when the dataset is unknown (the caller reports it).</param>
    /// <param name="errors">Where problems are added, by field.</param>
    public static (SweepSpec Spec, SearchSpace Space)? Resolve(SweepSpec? spec, long randomSeed, DatasetTask? task, ValidationErrors errors)
    {
        if (spec is null)
        {
            errors.Add("body", "is required: send a sweep spec as JSON (README, \"Sweeps\").");
            return null;
        }
        var problems = new ValidationErrors();
        var name = spec.Name?.Trim();
        if (name is { Length: > MaxNameLength })
        {
            problems.Add("name", $"is at most {MaxNameLength} characters.");
        }
        else if (name is { Length: > 0 } && Names.Problem(name) is { } invisible)
        {
            problems.Add("name", invisible);
        }
        if (spec.Base is null)
        {
            problems.Add("base", "is required: the run spec every trial starts from, as POST /api/runs takes it.");
        }
        var method = spec.Method ?? SweepMethod.Random;
        var space = SearchSpace.Parse(spec.Parameters, method, problems);

        var metric = spec.Metric ?? (task == DatasetTask.Regression ? SweepMetric.ValidationLoss : SweepMetric.ValidationAccuracy);
        if (task == DatasetTask.Regression && metric is SweepMetric.ValidationAccuracy or SweepMetric.TestAccuracy)
        {
            problems.Add("metric", $"the dataset is a regression: it has no accuracy; use validationLoss or testLoss.");
        }
        var goal = spec.Goal ?? (metric is SweepMetric.ValidationAccuracy or SweepMetric.TestAccuracy ? SweepGoal.Maximize : SweepGoal.Minimize);
        var baseSpec = spec.Base;
        if (baseSpec is not null && metric is SweepMetric.ValidationAccuracy or SweepMetric.ValidationLoss && baseSpec.ValidationFraction is null)
        {
            // Choosing hyperparameters on the test split would make its numbers an optimistic estimate.
            baseSpec = baseSpec with { ValidationFraction = DefaultValidationFraction };
        }

        var early = ResolveEarlyTermination(spec.EarlyTermination, baseSpec, problems);
        if (early is not null && baseSpec is not null && early.MaxEpochs is { } maxEpochs && baseSpec.Epochs is null)
        {
            baseSpec = baseSpec with { Epochs = maxEpochs };
        }

        var budget = spec.Budget ?? new SweepBudget();
        if (budget.MaxTrials is < 1 or > MaxTrials)
        {
            problems.Add("budget.maxTrials", $"must be between 1 and {MaxTrials}; got {budget.MaxTrials}.");
        }
        if (budget.Concurrency is < 1 or > MaxConcurrency)
        {
            problems.Add("budget.concurrency", $"must be between 1 and {MaxConcurrency}; got {budget.Concurrency}.");
        }
        if (budget.MaxEpochs is < 1 or > MaxEpochsBudget)
        {
            problems.Add("budget.maxEpochs", $"must be between 1 and {MaxEpochsBudget:N0}; got {budget.MaxEpochs}.");
        }
        int? gridSize = null;
        if (space is not null && method == SweepMethod.Grid)
        {
            gridSize = space.GridSize(problems);
            if (budget.MaxTrials > gridSize)
            {
                problems.Add("budget.maxTrials", $"the grid has {gridSize} combinations; ask for at most {gridSize} trials, or leave maxTrials out to run them all.");
            }
        }
        else if (space is not null && budget.MaxTrials is null && budget.MaxEpochs is null)
        {
            problems.Add("budget.maxTrials", $"a {Name(method)} sweep draws trials without end: give budget.maxTrials (e.g. 20) or budget.maxEpochs.");
        }
        errors.AddRange(problems);
        if (!problems.IsEmpty || space is null || early is null)
        {
            return null;
        }
        var resolved = spec with
        {
            Name = string.IsNullOrEmpty(name) ? null : name,
            Base = baseSpec,
            Method = method,
            Metric = metric,
            Goal = goal,
            Budget = budget with
            {
                MaxTrials = budget.MaxTrials ?? gridSize ?? (budget.MaxEpochs is null ? null : MaxTrials),
                Concurrency = budget.Concurrency ?? 1,
            },
            EarlyTermination = early,
            Seed = spec.Seed ?? randomSeed,
        };
        return (resolved, space);
    }

    private static EarlyTerminationSpec? ResolveEarlyTermination(EarlyTerminationSpec? spec, Runs.RunSpec? baseSpec, ValidationErrors errors)
    {
        var type = spec?.Type ?? EarlyTerminationType.None;
        spec ??= new EarlyTerminationSpec();
        var problems = new ValidationErrors();
        void Refuse(string field, int? value, EarlyTerminationType only)
        {
            if (value is not null && type != only)
            {
                problems.Add($"earlyTermination.{field}", $"belongs to {Name(only)}, not {Name(type)}; leave it out.");
            }
        }
        Refuse("minEpochs", spec.MinEpochs, EarlyTerminationType.Asha);
        Refuse("maxEpochs", spec.MaxEpochs, EarlyTerminationType.Asha);
        Refuse("reductionFactor", spec.ReductionFactor, EarlyTerminationType.Asha);
        Refuse("warmupEpochs", spec.WarmupEpochs, EarlyTerminationType.Median);
        if (type == EarlyTerminationType.None)
        {
            if (spec.MinTrials is not null)
            {
                problems.Add("earlyTermination.minTrials", "belongs to asha and median, not none; leave it out.");
            }
            errors.AddRange(problems);
            return problems.IsEmpty ? new EarlyTerminationSpec { Type = EarlyTerminationType.None } : null;
        }
        if (baseSpec?.EvaluateEvery is > 1)
        {
            problems.Add("base.evaluateEvery", $"early termination compares trials at every epoch it judges, so trials evaluate every epoch: leave evaluateEvery out (or 1); got {baseSpec.EvaluateEvery}.");
        }
        if (type == EarlyTerminationType.Asha)
        {
            var epochs = baseSpec?.Epochs ?? spec.MaxEpochs;
            if (spec.MaxEpochs is { } max && baseSpec?.Epochs is { } baseEpochs && max != baseEpochs)
            {
                problems.Add("earlyTermination.maxEpochs", $"is the epochs of a trial asha never stops, which are the base's epochs ({baseEpochs}); leave it out, or make them equal.");
            }
            if (spec.MaxEpochs is < 2)
            {
                problems.Add("earlyTermination.maxEpochs", $"must be at least 2 (a trial is judged before its last epoch); got {spec.MaxEpochs}.");
            }
            var reduction = spec.ReductionFactor ?? 3;
            if (reduction is < 2 or > MaxReductionFactor)
            {
                problems.Add("earlyTermination.reductionFactor", $"must be between 2 and {MaxReductionFactor}: each rung keeps the best 1/reductionFactor; got {reduction}.");
            }
            var minEpochs = spec.MinEpochs ?? 1;
            if (minEpochs < 1 || (epochs is { } e && minEpochs >= e))
            {
                problems.Add("earlyTermination.minEpochs", $"is the first rung: at least 1 and below the trials' {epochs} epochs, so that a trial is judged before it ends; got {minEpochs}.");
            }
            var minTrials = spec.MinTrials ?? reduction;
            if (minTrials is < 1 or > MaxTrials)
            {
                problems.Add("earlyTermination.minTrials", $"must be between 1 and {MaxTrials}; got {minTrials}.");
            }
            errors.AddRange(problems);
            return problems.IsEmpty
                ? new EarlyTerminationSpec { Type = type, MinEpochs = minEpochs, MaxEpochs = epochs, ReductionFactor = reduction, MinTrials = minTrials }
                : null;
        }
        var warmup = spec.WarmupEpochs ?? 1;
        if (warmup < 1)
        {
            problems.Add("earlyTermination.warmupEpochs", $"must be at least 1; got {warmup}.");
        }
        var others = spec.MinTrials ?? 3;
        if (others is < 1 or > MaxTrials)
        {
            problems.Add("earlyTermination.minTrials", $"must be between 1 and {MaxTrials}: the other trials' values a median is taken from; got {others}.");
        }
        errors.AddRange(problems);
        return problems.IsEmpty ? new EarlyTerminationSpec { Type = type, WarmupEpochs = warmup, MinTrials = others } : null;
    }

    private static string Name<T>(T value) where T : struct, Enum => System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(value.ToString());
}
