namespace Experiments.Web.Services;

/// <summary>Why the API refused a request: its problem-details title and detail, and the messages per field.</summary>
public sealed record ApiProblem(string Title, string? Detail, IReadOnlyDictionary<string, string[]> Errors)
{
    /// <summary>Messages for <paramref name="field"/> and for anything under it (<c>optimizer</c> also gives <c>optimizer.lr</c>).</summary>
    public IEnumerable<string> For(string field) => Errors
        .Where(pair => pair.Key == field || pair.Key.StartsWith(field + ".", StringComparison.Ordinal) || pair.Key.StartsWith(field + "[", StringComparison.Ordinal))
        .SelectMany(pair => pair.Value);
}

/// <summary>What the API answered: the value, or the problem.</summary>
public sealed record ApiResult<T>(T? Value, ApiProblem? Problem, int StatusCode)
    where T : class
{
    public bool Succeeded => Problem is null && Value is not null;
}
