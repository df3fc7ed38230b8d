using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Pipeline;

namespace CiTrigger.Grains.GitHub;

/// <summary>The delivery scanner's durable state: how far back it covered, what it asked for, its last scan.</summary>
[GenerateSerializer]
public sealed class DeliveryRecoveryState
{
    /// <summary>Where the last complete scan started; the next one reads back to here, less an overlap.</summary>
    [Id(0)] public DateTimeOffset? CoveredFrom { get; set; }

    /// <summary>Guids whose redelivery was requested, and when first: a failed entry of one of them is not a new miss.</summary>
    [Id(1)] public Dictionary<string, DateTimeOffset> Requested { get; set; } = new(StringComparer.Ordinal);

    [Id(2)] public RecoveryScan? LastScan { get; set; }

    [Id(3)] public long Scans { get; set; }

    /// <summary>Of <see cref="Requested"/>, the ones still awaited: asked for again until known or beyond GitHub's window.</summary>
    [Id(4)] public Dictionary<string, AwaitedDelivery> Awaited { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// A delivery whose redelivery was requested and whose guid the delivery index did not know at the last
/// look: the delivery log (<see cref="HookDeliveryLog.Path"/>) and the entry in it to ask for again
/// (<see cref="Id"/>), when that entry was delivered (GitHub's redelivery window counts from there), how
/// often it was asked for, and when it may be asked for again.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record AwaitedDelivery(
    [property: Id(0)] string Log,
    [property: Id(1)] long Id,
    [property: Id(2)] DateTimeOffset DeliveredAt,
    [property: Id(3)] int Asks,
    [property: Id(4)] DateTimeOffset NextAsk);

/// <summary>What to do about an awaited delivery at a scan.</summary>
public enum AwaitedStep
{
    /// <summary>Its backoff has not passed yet.</summary>
    Wait,

    /// <summary>Its backoff has passed: ask GitHub again.</summary>
    AskAgain,

    /// <summary>GitHub no longer redelivers it: drop it.</summary>
    Expired,
}

/// <summary>
/// The scanner's durable memory of the redeliveries it requested: every guid asked for (so its failed
/// entries in the log are not new misses) and, of those, the ones still awaited, with what it takes to
/// ask again. The waits between asks grow by the retry policy's backoff, from the scan interval (a
/// delivery cannot be asked for again before the next scan) up to <see cref="MaxAskInterval"/>; nothing is
/// kept beyond GitHub's redelivery window, so the memory is bounded by three days of missed deliveries.
/// </summary>
public sealed class RequestedRedeliveries(DeliveryRecoveryState state, RetryPolicy retry, TimeSpan scanInterval)
{
    /// <summary>How long GitHub redelivers a delivery.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromDays(3);

    /// <summary>The longest wait between two requests for one awaited delivery, unless the scan interval is longer.</summary>
    public static readonly TimeSpan MaxAskInterval = TimeSpan.FromHours(1);

    private readonly RetryPolicy backoff = retry.WithDelays(scanInterval, scanInterval > MaxAskInterval ? scanInterval : MaxAskInterval);

    /// <summary>The awaited deliveries by guid, the one due soonest first.</summary>
    public IReadOnlyList<KeyValuePair<string, AwaitedDelivery>> Awaited => [.. state.Awaited.OrderBy(a => a.Value.NextAsk)];

    /// <summary>Whether <paramref name="delivery"/> was asked for already; whether it is still awaited or settled, it is not a new miss.</summary>
    public bool WasAsked(string delivery) => state.Requested.ContainsKey(delivery);

    public bool IsAwaited(string delivery, out AwaitedDelivery awaited) => state.Awaited.TryGetValue(delivery, out awaited!);

    /// <summary>GitHub took the first request for <paramref name="delivery"/> (from <paramref name="log"/>) made <paramref name="at"/>.</summary>
    public void Asked(string log, HookDeliveryItem delivery, DateTimeOffset at)
    {
        state.Requested[delivery.DeliveryGuid] = at;
        state.Awaited[delivery.DeliveryGuid] = new AwaitedDelivery(log, delivery.Id, delivery.DeliveredAt, 1, at + backoff.Delay(1, null));
    }

    /// <summary>GitHub took another request for the awaited <paramref name="delivery"/>, made <paramref name="at"/>: the next waits longer.</summary>
    public void AskedAgain(string delivery, DateTimeOffset at)
    {
        var awaited = state.Awaited[delivery];
        var asks = awaited.Asks + 1;
        state.Awaited[delivery] = awaited with { Asks = asks, NextAsk = at + backoff.Delay(asks, null) };
    }

    /// <summary>GitHub will not redeliver <paramref name="delivery"/> (too old, gone): remembered, never asked for again.</summary>
    public void Refused(string delivery, DateTimeOffset at)
    {
        state.Requested.TryAdd(delivery, at);
        state.Awaited.Remove(delivery);
    }

    /// <summary>Nothing more to wait for: the guid is known, handed over, or beyond the window.</summary>
    public void Settle(string delivery) => state.Awaited.Remove(delivery);

    /// <summary>
    /// Whether <paramref name="attempt"/>, the newest attempt the log shows for an awaited delivery after the
    /// entry that was asked for, ends the wait: the service answered it 2xx (handed over; an ignored event
    /// never reaches the index) or refused it for good (a 4xx other than 408 and 429: a malformed or
    /// unsigned payload is refused again). A timeout (0), a 5xx, 408 or 429 leaves it awaited.
    /// </summary>
    public static bool Settles(HookDeliveryItem attempt) =>
        attempt.Succeeded || attempt.StatusCode is >= 400 and < 500 and not (408 or 429);

    public static AwaitedStep Step(AwaitedDelivery awaited, DateTimeOffset now) =>
        now - awaited.DeliveredAt > Window ? AwaitedStep.Expired
        : awaited.NextAsk <= now ? AwaitedStep.AskAgain
        : AwaitedStep.Wait;

    /// <summary>Forgets the guids asked for before the window (less <paramref name="slack"/>) that nothing awaits any more.</summary>
    public void Forget(DateTimeOffset now, TimeSpan slack)
    {
        var oldest = now - Window - slack;
        foreach (var old in state.Requested.Where(r => r.Value < oldest && !state.Awaited.ContainsKey(r.Key)).Select(r => r.Key).ToList())
        {
            state.Requested.Remove(old);
        }
    }
}
