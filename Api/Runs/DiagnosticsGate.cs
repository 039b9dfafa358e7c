using System.Diagnostics;
using System.Globalization;
using System.Threading.RateLimiting;
using Experiments.Api.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Experiments.Api.Runs;

/// <summary>
/// Lets <see cref="ExperimentsOptions.MaxConcurrentDiagnostics"/> pre-flight checks and range tests compute at once in this
/// process, queueing none: they train on the same CPU or GPU as the runs, so a burst of them must not pile up.
/// </summary>
public sealed class DiagnosticsGate : IDisposable
{
    private readonly ConcurrencyLimiter _limiter;
    private readonly TimeSpan _limit;
    private readonly int _permits;
    private long _lastStart = Stopwatch.GetTimestamp();

    public DiagnosticsGate(IOptions<ExperimentsOptions> options)
    {
        _permits = Math.Max(1, options.Value.MaxConcurrentDiagnostics);
        _limit = options.Value.DiagnosticsTimeLimit;
        _limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = _permits, QueueLimit = 0 });
    }

    /// <summary>A permit to compute, to dispose when done; null when every permit is taken.</summary>
    public IDisposable? TryEnter()
    {
        var lease = _limiter.AttemptAcquire();
        if (!lease.IsAcquired)
        {
            lease.Dispose();
            return null;
        }
        Interlocked.Exchange(ref _lastStart, Stopwatch.GetTimestamp());
        return lease;
    }

    /// <summary>429 with Retry-After: at most the time the latest diagnostic to start has left of its time limit.</summary>
    public ProblemHttpResult Busy(HttpContext context, string what)
    {
        var left = _limit - Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastStart));
        var seconds = Math.Max(1, (int)Math.Ceiling(left.TotalSeconds));
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return TypedResults.Problem(new ProblemDetails
        {
            Status = StatusCodes.Status429TooManyRequests,
            Title = "Diagnostics are busy.",
            Detail = $"{_permits} pre-flight {(_permits == 1 ? "check or range test is" : "checks or range tests are")} computing on this service "
                + $"(Experiments:MaxConcurrentDiagnostics); send the {what} again in {seconds} s.",
        });
    }

    public void Dispose() => _limiter.Dispose();
}
