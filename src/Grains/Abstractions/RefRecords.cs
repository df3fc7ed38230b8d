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

/// <summary>
/// One object of a manifest as it was sent to the cluster (or would have been, in dry-run); <see cref="Pipeline"/>
/// names the pipeline it came from (null in single-file mode).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record AppliedObject(
    [property: Id(0)] string ApiVersion,
    [property: Id(1)] string Kind,
    [property: Id(2)] string Namespace,
    [property: Id(3)] string Name,
    [property: Id(4)] string Action,
    [property: Id(5)] string? Pipeline = null)
{
    /// <summary>
    /// The object's <c>metadata.uid</c> as the API server answered the apply (null in dry-run), for an ownerReference
    /// to it made by the same attempt. Neither stored nor shown: it lives only as long as the attempt that applied the object.
    /// </summary>
    [NonSerialized]
    private readonly string? uid;

    [System.Text.Json.Serialization.JsonIgnore]
    public string? Uid
    {
        get => uid;
        init => uid = value;
    }
}

/// <summary>What became of one pipeline of an event.</summary>
[GenerateSerializer]
public enum PipelineStatus
{
    /// <summary>Its documents were applied (its objects carry its name).</summary>
    Applied,

    /// <summary>Its rules did not match (<see cref="PipelineRecord.Reason"/> names the rule); its check completes skipped.</summary>
    Skipped,

    /// <summary>It could not be applied for good (<see cref="PipelineRecord.Reason"/> says why); its check fails.</summary>
    Failed,
}

/// <summary>One pipeline of an event (pipeline mode): its name, what became of it, and why when it did not apply.</summary>
[GenerateSerializer, Immutable]
public sealed record PipelineRecord(
    [property: Id(0)] string Name,
    [property: Id(1)] PipelineStatus Status,
    [property: Id(2)] string? Reason = null);

/// <summary>
/// What an attempt that did not finish had already done in pipeline mode: the pipelines it settled and the objects
/// they applied, and the pipelines still to settle. A retry starts after the settled ones, so no pipeline that
/// applied is applied again; when the event gives up, the unsettled ones fail.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record PipelineProgress(
    [property: Id(0)] ImmutableList<PipelineRecord> Pipelines,
    [property: Id(1)] ImmutableList<AppliedObject> Objects,
    [property: Id(2)] ImmutableList<string> Unsettled)
{
    public static readonly PipelineProgress None = new([], [], []);
}

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

    /// <summary>In pipeline mode, what earlier attempts settled; null before any did.</summary>
    [Id(4)] public PipelineProgress? Progress { get; init; }

    /// <summary>
    /// Set the first time the event had to wait for a run slot of its repository (<c>concurrencyLimit</c>), when its
    /// check said so: pipeline mode completes that check once the event starts.
    /// </summary>
    [Id(5)] public bool WaitedForSlot { get; init; }

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

    /// <summary>
    /// Pipeline mode: each pipeline of the event and what became of it, in file-name order (empty: the repository
    /// has no pipelines at the revision); null in single-file mode and for events that never got as far.
    /// </summary>
    [Id(9)] public ImmutableList<PipelineRecord>? Pipelines { get; init; }
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
