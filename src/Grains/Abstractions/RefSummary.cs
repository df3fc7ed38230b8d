namespace CiTrigger.Grains.Abstractions;

/// <summary>One line of the ref catalog: enough to list refs and filter them without activating grains.</summary>
[GenerateSerializer, Immutable]
public sealed record RefSummary(
    [property: Id(0)] string Key,
    [property: Id(1)] string Repository,
    [property: Id(2)] string Ref,
    [property: Id(3)] int QueueLength,
    [property: Id(4)] bool Paused,
    [property: Id(5)] string State,
    [property: Id(6)] string? LastDelivery,
    [property: Id(7)] Outcome? LastOutcome,
    [property: Id(8)] string? LastError,
    [property: Id(9)] DateTimeOffset UpdatedAt,
    [property: Id(10)] DateTimeOffset? NextAttemptAt = null)
{
    public const string Idle = "idle";
    public const string Pending = "pending";
    public const string Retrying = "retrying";
    public const string PausedState = "paused";
    public const string FailedState = "failed";

    /// <summary>Every pending event is a pull request event waiting for <c>/ok-to-test</c> or the approval label.</summary>
    public const string Waiting = "waiting";
}

/// <summary>The state filters a <see cref="RefQuery"/> takes: the states of <see cref="RefSummary"/> and two groups of them.</summary>
public static class RefStates
{
    /// <summary>Refs with pending events, whatever their state.</summary>
    public const string Pending = "pending";

    /// <summary>Refs retrying their head or whose last event failed.</summary>
    public const string Failing = "failing";

    public static readonly IReadOnlySet<string> Known = new HashSet<string>(StringComparer.Ordinal)
    {
        Pending, Failing, RefSummary.Waiting, RefSummary.Idle, RefSummary.Retrying, RefSummary.PausedState, RefSummary.FailedState,
    };
}

/// <summary>A filter over the ref catalog (<see cref="State"/> one of <see cref="RefStates.Known"/>). <see cref="After"/> is the last key of the previous page.</summary>
[GenerateSerializer, Immutable]
public sealed record RefQuery(
    [property: Id(0)] string? State,
    [property: Id(1)] string? Repository,
    [property: Id(2)] int Limit,
    [property: Id(3)] string? After);

/// <summary>One page of <see cref="RefSummary"/> rows, ordered by key.</summary>
[GenerateSerializer, Immutable]
public sealed record RefPage(
    [property: Id(0)] IReadOnlyList<RefSummary> Refs,
    [property: Id(1)] string? Next);

/// <summary>
/// Cluster-wide questions that no single ref can answer: which refs exist, which ref a delivery went to,
/// and what happened lately across all refs. A stateless facade over the ref catalog, so the HTTP gateway needs only grain interfaces.
/// </summary>
public interface IRefDirectoryGrain : IGrainWithIntegerKey
{
    /// <summary>Known refs matching the query, one page at a time.</summary>
    Task<RefPage> List(RefQuery query);

    /// <summary>The ref key a delivery was queued to, or null when the delivery is unknown.</summary>
    Task<string?> FindDelivery(string delivery);

    /// <summary>The manifest last applied (or, in dry run, that would have been) for a delivery, as the service sent it; null when none is kept.</summary>
    Task<string?> FindManifest(string delivery);

    /// <summary>Recent events across all refs matching the query, newest first, one page at a time.</summary>
    Task<EventPage> ListEvents(EventQuery query);
}
