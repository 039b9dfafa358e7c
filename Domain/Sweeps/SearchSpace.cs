using System.Globalization;
using System.Text.Json;
using Experiments.Domain.Validation;

namespace Experiments.Domain.Sweeps;

/// <summary>
/// One searched field. A dimension of a sub-space (<see cref="Parent"/>) is searched only in trials whose parent choice took
/// option <see cref="ParentOption"/>. Numbers are drawn in [<see cref="Min"/>, <see cref="Max"/>]; a choice picks one of
/// <see cref="Values"/>. <see cref="Key"/> is where it was written in the request (<c>parameters.optimizer.lr</c>): the field its
/// problems are reported under.
/// </summary>
public sealed record SearchDimension(string Key, SpecPath Path, ParameterDistribution Distribution, IReadOnlyList<JsonElement> Values, double Min, double Max,
    int? Parent, int ParentOption)
{
    public bool IsNumeric => Distribution != ParameterDistribution.Choice;

    public bool IsInteger => Distribution is ParameterDistribution.Int or ParameterDistribution.LogInt;

    public bool IsLog => Distribution is ParameterDistribution.LogUniform or ParameterDistribution.LogInt;

    /// <summary>The values a grid visits: a choice's, or every whole number of an int range.</summary>
    public IReadOnlyList<JsonElement> GridValues => Distribution == ParameterDistribution.Choice
        ? Values
        : Enumerable.Range(0, (int)(Max - Min) + 1).Select(offset => Number(Min + offset, integer: true)).ToArray();

    /// <summary>A number as the JSON a spec holds: whole numbers as integers.</summary>
    public static JsonElement Number(double value, bool integer) => integer
        ? JsonSerializer.SerializeToElement((long)value)
        : JsonSerializer.SerializeToElement(value);
}

/// <summary>
/// A sweep's search space, checked: every field's path parsed, every range and choice sound, one level of sub-spaces at
/// most, and the whole bounded (dimensions, values, grid size). Dimensions are ordered so that a field is set before any
/// field inside it (<c>optimizer</c> before <c>optimizer.lr</c>) and a choice before its sub-space.
/// </summary>
public sealed class SearchSpace
{
    public const int MaxDimensions = 32;
    public const int MaxValuesPerChoice = 100;
    public const int MaxValues = 256;
    public const int MaxGridSize = 10_000;

    private SearchSpace(IReadOnlyList<SearchDimension> dimensions) => Dimensions = dimensions;

    public IReadOnlyList<SearchDimension> Dimensions { get; }

    /// <summary>The checked space, or null with the problems added under <c>parameters…</c>.</summary>
    public static SearchSpace? Parse(IReadOnlyDictionary<string, SweepParameter>? parameters, SweepMethod method, ValidationErrors errors)
    {
        if (parameters is null || parameters.Count == 0)
        {
            errors.Add("parameters", "is required: the fields to search, e.g. {\"optimizer.lr\": {\"type\": \"logUniform\", \"min\": 0.0001, \"max\": 0.1}}.");
            return null;
        }
        var problems = new ValidationErrors();
        var dimensions = new List<SearchDimension>();
        var topLevel = Ordered(parameters);
        foreach (var (path, parameter) in topLevel)
        {
            var parent = Add(dimensions, $"parameters.{path}", path, parameter, null, 0, method, problems);
            if (parent is null || parameter.Options is not { } options)
            {
                continue;
            }
            for (var option = 0; option < options.Count; option++)
            {
                var optionKey = $"parameters.{path}.options[{option}]";
                foreach (var (subPath, subParameter) in Ordered(options[option].Parameters ?? new Dictionary<string, SweepParameter>()))
                {
                    var key = $"{optionKey}.parameters.{subPath}";
                    if (subParameter.Options is not null)
                    {
                        problems.Add(key, "an option's sub-space holds plain parameters (values or a range); options nest one level only.");
                        continue;
                    }
                    if (parameters.ContainsKey(subPath) || subPath == path)
                    {
                        problems.Add(key, $"'{subPath}' is searched at the top level too; search it in one place.");
                        continue;
                    }
                    Add(dimensions, key, subPath, subParameter, parent, option, method, problems);
                }
            }
        }
        if (dimensions.Count > MaxDimensions)
        {
            problems.Add("parameters", $"searches {dimensions.Count} fields; at most {MaxDimensions}.");
        }
        var values = dimensions.Sum(dimension => dimension.Distribution == ParameterDistribution.Choice ? dimension.Values.Count : 0);
        if (values > MaxValues)
        {
            problems.Add("parameters", $"lists {values} choice values in all; at most {MaxValues}.");
        }
        errors.AddRange(problems);
        if (!problems.IsEmpty)
        {
            return null;
        }
        var space = new SearchSpace(dimensions);
        if (method == SweepMethod.Grid && space.GridSize(errors) is null)
        {
            return null;
        }
        return space;
    }

    /// <summary>Parents before the fields inside them; otherwise by path, so that the order never depends on how the request was written.</summary>
    private static IEnumerable<(string Path, SweepParameter Parameter)> Ordered(IReadOnlyDictionary<string, SweepParameter> parameters) =>
        parameters.Select(pair => (pair.Key, pair.Value))
            .OrderBy(pair => SpecPath.Parse(pair.Key, out _)?.Segments.Count ?? 0)
            .ThenBy(pair => pair.Key, StringComparer.Ordinal);

    /// <summary>Adds the dimension; answers its index, or null when it is not valid.</summary>
    private static int? Add(List<SearchDimension> dimensions, string key, string pathText, SweepParameter? parameter, int? parent, int parentOption,
        SweepMethod method, ValidationErrors errors)
    {
        var path = SpecPath.Parse(pathText, out var pathProblem);
        if (path is null)
        {
            errors.Add(key, pathProblem!);
            return null;
        }
        // Listed values are a choice, as in W&B's sweeps; a range says how it is drawn.
        var given = parameter?.Type ?? (parameter?.Values is not null || parameter?.Options is not null ? ParameterDistribution.Choice : null);
        if (parameter is null || given is not { } type)
        {
            errors.Add($"{key}.type", "is required for a range: uniform, logUniform, int or logInt (listed values are a choice).");
            return null;
        }
        var problems = new ValidationErrors();
        IReadOnlyList<JsonElement> values = [];
        double min = 0, max = 0;
        if (type == ParameterDistribution.Choice)
        {
            if (parameter.Min is not null || parameter.Max is not null)
            {
                problems.Add(key, "a choice has values (or options), not min and max; for a range use uniform, logUniform, int or logInt.");
            }
            if ((parameter.Values is null) == (parameter.Options is null))
            {
                problems.Add($"{key}.values", "a choice lists either values ([0.9, 0.99]) or options ([{\"value\": \"sgd\", \"parameters\": {…}}]), one of the two.");
            }
            else
            {
                values = parameter.Values ?? parameter.Options!.Select(option => option.Value).ToArray();
                var field = parameter.Values is null ? "options" : "values";
                if (values.Count == 0)
                {
                    problems.Add($"{key}.{field}", "is empty: list at least one value.");
                }
                else if (values.Count > MaxValuesPerChoice)
                {
                    problems.Add($"{key}.{field}", $"lists {values.Count} values; at most {MaxValuesPerChoice}.");
                }
                for (var i = 0; i < values.Count; i++)
                {
                    if (values[i].ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
                    {
                        problems.Add(parameter.Values is null ? $"{key}.options[{i}].value" : $"{key}.values[{i}]", "is missing: a choice's value is a number, text, true/false, an object or a list.");
                    }
                }
                var distinct = values.Where(value => value.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null)).Select(Canonical).ToList();
                if (distinct.Count != distinct.Distinct(StringComparer.Ordinal).Count())
                {
                    problems.Add($"{key}.{field}", "lists a value twice; list each once.");
                }
            }
        }
        else
        {
            if (parameter.Values is not null || parameter.Options is not null)
            {
                problems.Add(key, $"a {Name(type)} range has min and max, not values; for listed values use type choice.");
            }
            if (parameter.Min is not { } low || !double.IsFinite(low))
            {
                problems.Add($"{key}.min", $"is required: a finite number, the range's lowest value; got {Show(parameter.Min)}.");
            }
            if (parameter.Max is not { } high || !double.IsFinite(high))
            {
                problems.Add($"{key}.max", $"is required: a finite number, the range's highest value; got {Show(parameter.Max)}.");
            }
            if (problems.IsEmpty)
            {
                (min, max) = (parameter.Min!.Value, parameter.Max!.Value);
                var integer = type is ParameterDistribution.Int or ParameterDistribution.LogInt;
                if (integer && (min != Math.Floor(min) || max != Math.Floor(max) || Math.Abs(min) > 1e9 || Math.Abs(max) > 1e9))
                {
                    problems.Add($"{key}.min", $"an {Name(type)} range has whole numbers of at most 1,000,000,000 as min and max; got {Show(min)} and {Show(max)}.");
                }
                else if (max < min || (max == min && !integer))
                {
                    problems.Add($"{key}.max", max == min
                        ? $"the range is empty: min and max are both {Show(min)}; for one value leave the field out of the search, or give a range."
                        : $"the range is empty: max {Show(max)} is below min {Show(min)}; swap them.");
                }
                else if (!double.IsFinite(max - min))
                {
                    problems.Add($"{key}.max", $"the range from {Show(min)} to {Show(max)} is wider than a number holds; narrow it.");
                }
                else if (type is ParameterDistribution.LogUniform or ParameterDistribution.LogInt && min <= 0)
                {
                    problems.Add($"{key}.min", $"a {Name(type)} range needs min greater than 0 (the logarithm of {Show(min)} is not defined); use e.g. {(integer ? "1" : "1e-5")}, or type {(integer ? "int" : "uniform")}.");
                }
            }
            if (method == SweepMethod.Grid && type is not (ParameterDistribution.Int or ParameterDistribution.LogInt) && problems.IsEmpty)
            {
                problems.Add($"{key}.type", $"a grid visits listed values: a {Name(type)} range has no end of them. List the values (type choice), or use method random or tpe.");
            }
        }
        errors.AddRange(problems);
        if (!problems.IsEmpty)
        {
            return null;
        }
        dimensions.Add(new SearchDimension(key, path, type, values, min, max, parent, parentOption));
        return dimensions.Count - 1;
    }

    /// <summary>The number of distinct trials a grid holds, or null (with the problem) when over <see cref="MaxGridSize"/>.</summary>
    public int? GridSize(ValidationErrors errors)
    {
        long combinations = 1;
        foreach (var dimension in Dimensions)
        {
            var count = dimension.Distribution == ParameterDistribution.Choice ? dimension.Values.Count : (long)(dimension.Max - dimension.Min) + 1;
            combinations = count > MaxGridSize ? MaxGridSize + 1L : Math.Min(MaxGridSize + 1L, combinations * count);
        }
        if (combinations > MaxGridSize)
        {
            errors.Add("parameters", $"the grid has more than {MaxGridSize:N0} combinations; list fewer values, or use method random or tpe with budget.maxTrials.");
            return null;
        }
        return Grid().Count;
    }

    /// <summary>
    /// Every distinct trial of the grid, in order (the last dimension fastest). A dimension of a sub-space whose option is not
    /// chosen takes no value, so combinations that differ only there are one trial.
    /// </summary>
    public IReadOnlyList<TrialValues> Grid()
    {
        var gridValues = Dimensions.Select(dimension => dimension.GridValues).ToArray();
        var indexes = new int[Dimensions.Count];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var trials = new List<TrialValues>();
        while (true)
        {
            var values = new JsonElement?[Dimensions.Count];
            for (var d = 0; d < Dimensions.Count; d++)
            {
                values[d] = IsActive(d, values) ? gridValues[d][indexes[d]] : null;
            }
            var trial = new TrialValues(values);
            if (seen.Add(trial.Key))
            {
                trials.Add(trial);
            }
            var position = Dimensions.Count - 1;
            while (position >= 0 && ++indexes[position] == gridValues[position].Count)
            {
                indexes[position] = 0;
                position--;
            }
            if (position < 0)
            {
                return trials;
            }
        }
    }

    /// <summary>Whether dimension <paramref name="d"/> is searched, given the values chosen for the dimensions before it.</summary>
    public bool IsActive(int d, IReadOnlyList<JsonElement?> values)
    {
        var dimension = Dimensions[d];
        if (dimension.Parent is not { } parent)
        {
            return true;
        }
        return values[parent] is { } chosen && Canonical(chosen) == Canonical(Dimensions[parent].Values[dimension.ParentOption]);
    }

    /// <summary>A value's JSON without insignificant white space: equal values have equal text.</summary>
    public static string Canonical(JsonElement value) => JsonSerializer.Serialize(value);

    private static string Name(ParameterDistribution type) => JsonNamingPolicy.CamelCase.ConvertName(type.ToString());

    private static string Show(double? value) => value is { } number ? number.ToString(CultureInfo.InvariantCulture) : "nothing";
}

/// <summary>One trial's values, by dimension: null where the dimension is not searched in this trial.</summary>
public sealed record TrialValues(IReadOnlyList<JsonElement?> Values)
{
    /// <summary>Equal for trials with the same values.</summary>
    public string Key => string.Join("|", Values.Select(value => value is { } v ? SearchSpace.Canonical(v) : "-"));
}
