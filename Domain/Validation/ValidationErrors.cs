namespace Experiments.Domain.Validation;

/// <summary>
/// Field path → messages, collected while checking a request. Field paths use the JSON names the user
/// sent (<c>layers[2].outFeatures</c>) so a problem-details answer points at exactly what to fix.
/// </summary>
public sealed class ValidationErrors
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public bool IsEmpty => _errors.Count == 0;

    public void Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var messages))
        {
            messages = [];
            _errors[field] = messages;
        }
        messages.Add(message);
    }

    public void AddRange(ValidationErrors other)
    {
        foreach (var (field, messages) in other._errors)
        {
            foreach (var message in messages)
            {
                Add(field, message);
            }
        }
    }

    public Dictionary<string, string[]> ToDictionary() =>
        _errors.ToDictionary(pair => pair.Key, pair => pair.Value.ToArray(), StringComparer.Ordinal);

    public override string ToString() =>
        string.Join("; ", _errors.SelectMany(pair => pair.Value.Select(message => $"{pair.Key}: {message}")));
}
