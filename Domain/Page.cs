namespace Experiments.Domain;

/// <summary>One page of a list, newest first. Page numbers start at 1.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, int PageNumber, int PageSize, int TotalCount);
