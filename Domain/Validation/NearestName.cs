namespace Experiments.Domain.Validation;

/// <summary>
/// The known name a misspelt one was meant to be, for every unknown name the service answers: request fields, form
/// fields, query parameters, component types and hyperparameters. First the same letters in another case or in
/// PyTorch's snake_case (<c>weight_decay</c>, <c>WeightDecay</c> → <c>weightDecay</c>), else the closest name by
/// edit distance when they differ by little (<c>targetAcuracy</c> → <c>targetAccuracy</c>, <c>lrr</c> → <c>lr</c>).
/// </summary>
public static class NearestName
{
    /// <summary>Longer names are only compared letter for letter: edit distance costs the product of the lengths.</summary>
    private const int MaxComparedLength = 100;

    /// <summary>The nearest of <paramref name="known"/>, or null when none is near enough to be what was meant.</summary>
    public static string? Find(string name, IEnumerable<string> known)
    {
        var candidates = known.ToList();
        var letters = Letters(name);
        var same = candidates.FirstOrDefault(candidate => Letters(candidate) == letters);
        if (same is not null || name.Length > MaxComparedLength)
        {
            return same;
        }
        string? nearest = null;
        var nearestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            var other = Letters(candidate);
            var distance = Distance(letters, other);
            // One edit per three letters of the shorter name, and always one: "lt" is "lr", "eps" is not "lr".
            if (distance < nearestDistance && distance <= Math.Max(1, Math.Min(letters.Length, other.Length) / 3))
            {
                nearest = candidate;
                nearestDistance = distance;
            }
        }
        return nearest;
    }

    /// <summary>" Did you mean 'lr'?", or "" when no known name is near.</summary>
    public static string Hint(string name, IEnumerable<string> known) =>
        Find(name, known) is { } nearest ? $" Did you mean '{nearest}'?" : "";

    /// <summary>
    /// The message for a name that is not one of <paramref name="known"/>, keyed by that name:
    /// "is not a field of a run; did you mean 'targetAccuracy'? The fields are datasetId, modelId, …".
    /// </summary>
    /// <param name="name">The name as sent.</param>
    /// <param name="kind">What the names are: "field", "query parameter".</param>
    /// <param name="owner">Whose they are: "a run", "GET /api/runs".</param>
    /// <param name="known">The valid names, in the order to list them.</param>
    public static string NotOneOf(string name, string kind, string owner, IReadOnlyCollection<string> known)
    {
        var list = known.Count == 0 ? $"it takes no {kind}s" : $"the {kind}s are {string.Join(", ", known)}";
        return Find(name, known) is { } nearest
            ? $"is not a {kind} of {owner}; did you mean '{nearest}'? {char.ToUpperInvariant(list[0])}{list[1..]}."
            : $"is not a {kind} of {owner}; {list}.";
    }

    private static string Letters(string text) => text.Replace("_", "", StringComparison.Ordinal).ToUpperInvariant();

    /// <summary>Edits (insert, delete, replace, swap two neighbours) that turn one text into the other.</summary>
    private static int Distance(string left, string right)
    {
        var before = new int[right.Length + 1];
        var previous = new int[right.Length + 1];
        var current = new int[right.Length + 1];
        for (var j = 0; j <= right.Length; j++)
        {
            previous[j] = j;
        }
        for (var i = 1; i <= left.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= right.Length; j++)
            {
                var cost = left[i - 1] == right[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
                if (i > 1 && j > 1 && left[i - 1] == right[j - 2] && left[i - 2] == right[j - 1])
                {
                    current[j] = Math.Min(current[j], before[j - 2] + 1);
                }
            }
            (before, previous, current) = (previous, current, before);
        }
        return previous[right.Length];
    }
}
