using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Experiments.Api;

/// <summary>
/// Lets at most <see cref="MaxConcurrent"/> requests that pass a model over a whole split (a run's mistakes) compute at a
/// time: each holds the dataset and a model in memory and keeps a core busy for as long as the pass takes. A request
/// waits up to <see cref="MaxWait"/> for its turn (or until its client leaves), then is answered 503.
/// </summary>
public sealed class HeavyRequests : IDisposable
{
    public const int MaxConcurrent = 2;

    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(30);

    private readonly SemaphoreSlim _slots = new(MaxConcurrent, MaxConcurrent);

    /// <summary>A turn, released when disposed; null when none came free within <see cref="MaxWait"/>.</summary>
    public async Task<IDisposable?> EnterAsync(CancellationToken cancellationToken) =>
        await _slots.WaitAsync(MaxWait, cancellationToken) ? new Turn(_slots) : null;

    public void Dispose() => _slots.Dispose();

    public static ProblemHttpResult Busy() => TypedResults.Problem(new ProblemDetails
    {
        Status = StatusCodes.Status503ServiceUnavailable,
        Title = "The service is busy.",
        Detail = $"{MaxConcurrent} requests that evaluate a whole split are already computing and none finished within {MaxWait.TotalSeconds:0} s; try again shortly.",
    });

    private sealed class Turn(SemaphoreSlim slots) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                slots.Release();
            }
        }
    }
}
