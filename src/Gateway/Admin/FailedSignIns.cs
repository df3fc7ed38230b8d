using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace CiTrigger.Gateway.Admin;

/// <summary>
/// Wrong admin tokens, by caller address: at the login form and as bearer tokens alike. Each is logged
/// with the address, and they are slowed: an address may fail <see cref="Burst"/> times in a row, then once
/// every <see cref="Refill"/>; while it may not, every sign-in from it, right or wrong, is answered 429 with
/// <c>Retry-After</c>, since answering a right token there would tell a guesser which one was right. A
/// right token before that costs nothing. The bucket is System.Threading.RateLimiting's, the engine of
/// ASP.NET Core's rate limiting middleware; the middleware itself counts every request, not failures.
/// </summary>
public sealed partial class FailedSignIns(ILogger<FailedSignIns> logger) : IDisposable
{
    public const int Burst = 5;

    public static readonly TimeSpan Refill = TimeSpan.FromSeconds(12);

    // The partitioned limiter replenishes its partitions itself and drops those left full for a while.
    private readonly PartitionedRateLimiter<IPAddress> limiter = PartitionedRateLimiter.Create<IPAddress, IPAddress>(address =>
        RateLimitPartition.GetTokenBucketLimiter(address, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = Burst,
            TokensPerPeriod = 1,
            ReplenishmentPeriod = Refill,
            QueueLimit = 0,
        }));

    private long failures;

    /// <summary>How long the caller must wait before it may sign in again; null when it may now.</summary>
    public TimeSpan? Wait(HttpContext http)
    {
        using var lease = limiter.AttemptAcquire(Partition(http.Connection.RemoteIpAddress), 0);
        return lease.IsAcquired ? null : lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : Refill;
    }

    /// <summary>Counts and logs a wrong token; <paramref name="how"/> says where it was presented.</summary>
    public void Failed(HttpContext http, string how)
    {
        var caller = http.Connection.RemoteIpAddress;
        using (limiter.AttemptAcquire(Partition(caller)))
        {
            // Only the count matters: with the bucket empty this failure could not have been tried.
        }

        var address = caller?.ToString() ?? "an unknown address";
        Log.Failed(logger, how, address, Interlocked.Increment(ref failures));
        if (Wait(http) is { } wait)
        {
            Log.Slowed(logger, address, wait);
        }
    }

    /// <summary>The answer while the caller must wait: 429 with the seconds in <c>Retry-After</c>.</summary>
    public static IResult TooMany(HttpContext http, TimeSpan wait)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
        http.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return AdminResults.Refused(StatusCodes.Status429TooManyRequests, $"too many wrong admin tokens from this address; try again in {seconds} s");
    }

    public void Dispose() => limiter.Dispose();

    /// <summary>The caller's address; an IPv6 caller usually holds a whole /64, so that counts as one.</summary>
    private static IPAddress Partition(IPAddress? caller)
    {
        if (caller is null)
        {
            return IPAddress.None;
        }

        if (caller.IsIPv4MappedToIPv6)
        {
            return caller.MapToIPv4();
        }

        if (caller.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return caller;
        }

        var bytes = caller.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes);
    }

    private static partial class Log
    {
        [LoggerMessage(110, LogLevel.Warning, "Failed admin sign-in ({How}) from {Address}; {Failures} since start")]
        public static partial void Failed(ILogger logger, string how, string address, long failures);

        [LoggerMessage(111, LogLevel.Warning, "Admin sign-ins from {Address} are refused for {Wait} after repeated failures")]
        public static partial void Slowed(ILogger logger, string address, TimeSpan wait);
    }
}
