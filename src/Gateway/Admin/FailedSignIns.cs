using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace CiTrigger.Gateway.Admin;

/// <summary>
/// Wrong admin tokens, by caller address: at the login form and as bearer tokens alike. Each is logged
/// with the address, and they are slowed: an address may fail <see cref="Burst"/> times in a row, then once
/// every <see cref="Refill"/>; while it may not, every sign-in from it, right or wrong, is answered 429 with
/// <c>Retry-After</c>, since answering a right token there would tell a guesser which one was right. A
/// right token before that costs nothing. A token bucket per address, refilled when it is looked at by the
/// time the <see cref="TimeProvider"/> says has passed (not by a timer sampling the clock ten times a second,
/// as System.Threading.RateLimiting's partitioned limiter did: on this project's VMs the clock can jump, and
/// each jump it sampled was a token). At most <see cref="MaxAddresses"/> addresses are kept; full buckets go first.
/// </summary>
public sealed partial class FailedSignIns(TimeProvider time, ILogger<FailedSignIns> logger)
{
    public const int Burst = 5;

    public const int MaxAddresses = 10_000;

    public static readonly TimeSpan Refill = TimeSpan.FromSeconds(12);

    private readonly Dictionary<IPAddress, Bucket> buckets = [];
    private readonly Lock gate = new();
    private long failures;

    /// <summary>How long the caller must wait before it may try a token, or null when it may now.</summary>
    public TimeSpan? Wait(HttpContext http)
    {
        lock (gate)
        {
            return Current(Partition(http.Connection.RemoteIpAddress)) is { Tokens: 0 } empty ? Refill - time.GetElapsedTime(empty.Since) : null;
        }
    }

    public void Failed(HttpContext http, string how)
    {
        var caller = http.Connection.RemoteIpAddress;
        lock (gate)
        {
            if (Current(Partition(caller)) is { Tokens: > 0 } bucket)
            {
                bucket.Tokens--;
            }
        }

        var address = caller?.ToString() ?? "an unknown address";
        Log.Failed(logger, how, address, Interlocked.Increment(ref failures));
        if (Wait(http) is { } wait)
        {
            Log.Slowed(logger, address, wait);
        }
    }

    public static IResult TooMany(HttpContext http, TimeSpan wait)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
        http.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return AdminResults.Refused(StatusCodes.Status429TooManyRequests, $"too many wrong admin tokens from this address; try again in {seconds} s");
    }

    /// <summary>The address's bucket, refilled by the whole periods passed since it was last refilled (under the gate).</summary>
    private Bucket Current(IPAddress address)
    {
        var now = time.GetTimestamp();
        if (!buckets.TryGetValue(address, out var bucket))
        {
            if (buckets.Count >= MaxAddresses)
            {
                foreach (var full in buckets.Where(b => Refilled(b.Value, now).Tokens == Burst).Select(b => b.Key).ToList())
                {
                    buckets.Remove(full);
                }
            }

            bucket = new Bucket { Tokens = Burst, Since = now };
            if (buckets.Count < MaxAddresses)
            {
                buckets[address] = bucket;
            }

            return bucket;
        }

        return Refilled(bucket, now);
    }

    private Bucket Refilled(Bucket bucket, long now)
    {
        var periods = (long)(time.GetElapsedTime(bucket.Since, now) / Refill);
        if (periods > 0)
        {
            bucket.Tokens = (int)Math.Min(Burst, bucket.Tokens + periods);
            bucket.Since = bucket.Tokens == Burst ? now : bucket.Since + (long)(periods * Refill.TotalSeconds * time.TimestampFrequency);
        }

        return bucket;
    }

    private sealed class Bucket
    {
        public int Tokens { get; set; }

        /// <summary>When the bucket was last refilled (a <see cref="TimeProvider"/> timestamp).</summary>
        public long Since { get; set; }
    }

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
