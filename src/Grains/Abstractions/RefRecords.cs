using System.Collections.Immutable;

namespace CiTrigger.Grains.Abstractions;

/// <summary>How <see cref="IRefGrain.Enqueue"/> answered.</summary>
[GenerateSerializer]
public enum EnqueueStatus
{
    Queued,
    Duplicate,

    /// <summary>The ref already holds Handler:MaxQueueLength pending events; nothing was stored.</summary>
    Full,
}

/// <summary>The answer to <see cref="IRefGrain.Enqueue"/>; <see cref="QueueLength"/> counts the event itself.</summary>
[GenerateSerializer, Immutable]
public sealed record EnqueueResult(
    [property: Id(0)] EnqueueStatus Status,
    [property: Id(1)] int QueueLength);

/// <summary>How a processed event ended.</summary>
[GenerateSerializer]
public enum Outcome
{
    Applied,
    Failed,
    Skipped,
}

/// <summary>One object of a manifest as it was sent to the cluster (or would have been, in dry-run).</summary>
[GenerateSerializer, Immutable]
public sealed record AppliedObject(
    [property: Id(0)] string ApiVersion,
    [property: Id(1)] string Kind,
    [property: Id(2)] string Namespace,
    [property: Id(3)] string Name,
    [property: Id(4)] string Action);

/// <summary>One processing attempt of an event.</summary>
[GenerateSerializer, Immutable]
public sealed record AttemptRecord(
    [property: Id(0)] DateTimeOffset StartedAt,
    [property: Id(1)] TimeSpan Duration,
    [property: Id(2)] string? Error,
    [property: Id(3)] bool Transient);

/// <summary>An accepted event that has not finished yet.</summary>
[GenerateSerializer, Immutable]
public sealed record PendingEvent(
    [property: Id(0)] HookEvent Event,
    [property: Id(1)] DateTimeOffset AcceptedAt)
{
    [Id(2)] public ImmutableList<AttemptRecord> Attempts { get; init; } = [];

    /// <summary>Set while the event waits out a retry backoff.</summary>
    [Id(3)] public DateTimeOffset? NotBefore { get; init; }

    /// <summary>A pull request event of an untrusted author, held (not applied) until it is approved.</summary>
    public bool AwaitingApproval => Event.NeedsApproval;
}

/// <summary>A finished event as the ref's bounded history keeps it.</summary>
[GenerateSerializer, Immutable]
public sealed record HistoryEntry(
    [property: Id(0)] HookEvent Event,
    [property: Id(1)] Outcome Outcome,
    [property: Id(2)] string? Error,
    [property: Id(3)] DateTimeOffset AcceptedAt,
    [property: Id(4)] DateTimeOffset FinishedAt,
    [property: Id(5)] ImmutableList<AttemptRecord> Attempts,
    [property: Id(6)] ImmutableList<AppliedObject> Objects,
    [property: Id(7)] bool OutOfChain)
{
    /// <summary>Time from acknowledgement to the end of processing.</summary>
    public TimeSpan EndToEnd => FinishedAt - AcceptedAt;

    /// <summary>What the applied run objects did; null when the event created none (complete once applied) or did not apply.</summary>
    [Id(8)] public RunRecord? Run { get; init; }
}

/// <summary>The ref's state as operators see it.</summary>
[GenerateSerializer, Immutable]
public sealed record RefSnapshot(
    [property: Id(0)] string Key,
    [property: Id(1)] string Repository,
    [property: Id(2)] string Ref,
    [property: Id(3)] bool Paused,
    [property: Id(4)] string? InFlight,
    [property: Id(5)] ImmutableList<PendingEvent> Queue,
    [property: Id(6)] ImmutableList<HistoryEntry> History,
    [property: Id(7)] string LastAfter,
    [property: Id(8)] bool RepositoryPaused);

/// <summary>Where a delivery stands: queued, being processed, or finished with an outcome.</summary>
[GenerateSerializer, Immutable]
public sealed record DeliveryRecord(
    [property: Id(0)] string Key,
    [property: Id(1)] string Status,
    [property: Id(2)] HookEvent Event,
    [property: Id(3)] DateTimeOffset AcceptedAt,
    [property: Id(4)] ImmutableList<AttemptRecord> Attempts,
    [property: Id(5)] HistoryEntry? Result);

/// <summary>The answer to an admin action on a ref.</summary>
[GenerateSerializer, Immutable]
public sealed record AdminResult(
    [property: Id(0)] bool Done,
    [property: Id(1)] string Message,
    [property: Id(2)] string? Delivery);
