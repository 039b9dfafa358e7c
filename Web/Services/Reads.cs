using Microsoft.Extensions.DependencyInjection;

namespace Experiments.Web.Services;

/// <summary>
/// Runs one read of a query service (<c>IRunQueries</c>, <c>IDatasetQueries</c>, <c>IModelQueries</c>, <c>IWorkerQueries</c>, <c>ISweepQueries</c>: the ones the
/// REST endpoints use) in a scope of its own. A circuit lives for minutes and its live events interleave with the
/// user's clicks, while a DbContext must be short-lived and used by one operation at a time.
/// </summary>
public sealed class Reads(IServiceScopeFactory scopes)
{
    public async Task<TResult> Run<TQueries, TResult>(Func<TQueries, Task<TResult>> read) where TQueries : notnull
    {
        await using var scope = scopes.CreateAsyncScope();
        return await read(scope.ServiceProvider.GetRequiredService<TQueries>());
    }
}
