using System.Text.Json;
using Experiments.Domain.Runs;

namespace Experiments.Domain.Sweeps;

/// <summary>
/// A trial of a sweep: its run, the values it was given, how far it trained and its score. <see cref="Number"/> counts from 1
/// in the order trials were started; <see cref="Parameters"/> are the searched fields' values by path (a sub-space's fields
/// only when their option was chosen); <see cref="Value"/> is the trial's score, its best epoch's value of the sweep's metric
/// (null before its first evaluation); <see cref="Pruning"/> says why it was stopped early, when it was.
/// </summary>
public sealed record TrialView(
    int Number,
    Guid RunId,
    RunStatus Status,
    StopReason? StopReason,
    IReadOnlyDictionary<string, JsonElement> Parameters,
    int EpochsCompleted,
    int Epochs,
    double? Value,
    TrialPruning? Pruning,
    string? Error);

/// <summary>
/// What a sweep has spent, and what early termination saved: <see cref="TrialsStarted"/> counts the trials created so far
/// (queued, running or finished), <see cref="EpochsUsed"/> the epochs trained over all trials, <see cref="EpochsSaved"/> the
/// epochs the pruned trials did not train (each one's epochs less those it trained).
/// </summary>
public sealed record SweepBudgetUse(int? MaxTrials, int TrialsStarted, int Concurrency, int? MaxEpochs, int EpochsUsed, int EpochsSaved);

/// <summary>
/// How much of the spread of the trials' scores a field accounts for: the correlation ratio η² (between-group variance over
/// total variance) of the scores grouped by the field's value, numbers grouped in quartiles. 0 to 1; a rough guide, from the
/// scored trials only.
/// </summary>
public sealed record ParameterImportance(string Parameter, double Importance, int Trials);

public sealed record SweepView(
    Guid Id,
    string? Name,
    SweepStatus Status,
    string? Error,
    bool CancelRequested,
    Guid DatasetId,
    string DatasetName,
    SweepSpec Spec,
    SweepBudgetUse Budget,
    TrialView? Best,
    IReadOnlyList<TrialView> Trials,
    IReadOnlyList<ParameterImportance> Importance,
    DateTimeOffset CreatedAt,
    string? CreatedBy,
    DateTimeOffset? FinishedAt);

public sealed record SweepListItem(
    Guid Id,
    string? Name,
    SweepStatus Status,
    SweepMethod Method,
    SweepMetric Metric,
    SweepGoal Goal,
    Guid DatasetId,
    string DatasetName,
    int TrialsStarted,
    int TrialsFinished,
    int? MaxTrials,
    double? BestValue,
    Guid? BestRunId,
    DateTimeOffset CreatedAt,
    string? CreatedBy,
    DateTimeOffset? FinishedAt);

/// <summary>The sweep reads the REST API and the dashboard share.</summary>
public interface ISweepQueries
{
    Task<Page<SweepListItem>> ListAsync(int page, int pageSize, CancellationToken cancellationToken);

    Task<SweepView?> GetAsync(Guid id, CancellationToken cancellationToken);
}

public static class ParameterImportances
{
    /// <summary>Each searched field's η² over <paramref name="trials"/> with a value, most important first.</summary>
    public static IReadOnlyList<ParameterImportance> Of(IReadOnlyList<TrialView> trials)
    {
        var scored = trials.Where(trial => trial.Value is not null).ToList();
        var names = scored.SelectMany(trial => trial.Parameters.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        var importances = new List<ParameterImportance>();
        foreach (var name in names)
        {
            var pairs = scored.Where(trial => trial.Parameters.ContainsKey(name)).Select(trial => (Value: trial.Parameters[name], Score: trial.Value!.Value)).ToList();
            if (pairs.Count < 2)
            {
                continue;
            }
            var numeric = pairs.All(pair => pair.Value.ValueKind == JsonValueKind.Number);
            var distinct = pairs.Select(pair => SearchSpace.Canonical(pair.Value)).Distinct(StringComparer.Ordinal).Count();
            IEnumerable<IGrouping<string, (JsonElement Value, double Score)>> groups;
            if (numeric && distinct > 4)
            {
                var ordered = pairs.OrderBy(pair => pair.Value.GetDouble()).ToList();
                groups = ordered.Select((pair, index) => (pair, index)).GroupBy(item => (item.index * 4 / ordered.Count).ToString(System.Globalization.CultureInfo.InvariantCulture), item => item.pair);
            }
            else
            {
                groups = pairs.GroupBy(pair => SearchSpace.Canonical(pair.Value));
            }
            var mean = pairs.Average(pair => pair.Score);
            var total = pairs.Sum(pair => (pair.Score - mean) * (pair.Score - mean));
            var between = groups.Sum(group => group.Count() * Math.Pow(group.Average(pair => pair.Score) - mean, 2));
            importances.Add(new ParameterImportance(name, total <= 0 ? 0 : Math.Clamp(between / total, 0, 1), pairs.Count));
        }
        return importances.OrderByDescending(importance => importance.Importance).ThenBy(importance => importance.Parameter, StringComparer.Ordinal).ToList();
    }
}
