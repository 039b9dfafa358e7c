using System.Net;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Experiments.Api.Access;

/// <summary>
/// Counts failed key checks per client address in fixed one-minute windows; an address over
/// <see cref="AuthOptions.FailedAttemptsPerMinute"/> is answered 429 without its key being checked until the window ends.
/// </summary>
public sealed class FailedAuthentications : IDisposable
{
    private readonly PartitionedRateLimiter<string> _limiter;

    public FailedAuthentications(IOptions<AuthOptions> options)
    {
        var perMinute = Math.Max(1, options.Value.FailedAttemptsPerMinute);
        _limiter = PartitionedRateLimiter.Create<string, string>(address => RateLimitPartition.GetFixedWindowLimiter(address, _ =>
            new FixedWindowRateLimiterOptions { PermitLimit = perMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0, AutoReplenishment = true }));
    }

    /// <summary>Whether <paramref name="address"/> used up its failures; then how long until it may try again.</summary>
    public bool IsBlocked(IPAddress? address, out TimeSpan retryAfter)
    {
        using var probe = _limiter.AttemptAcquire(Partition(address), permitCount: 0);
        return !Acquired(probe, out retryAfter);
    }

    /// <summary>Counts a failure; true when this one used up the address's allowance.</summary>
    public bool Record(IPAddress? address, out TimeSpan retryAfter)
    {
        using var lease = _limiter.AttemptAcquire(Partition(address));
        return !Acquired(lease, out retryAfter);
    }

    public void Dispose() => _limiter.Dispose();

    private static bool Acquired(RateLimitLease lease, out TimeSpan retryAfter)
    {
        retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMinutes(1);
        return lease.IsAcquired;
    }

    private static string Partition(IPAddress? address) => address?.ToString() ?? "local";
}
