using System.Collections.Immutable;
using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Grains.Processing;

/// <summary>
/// The index of a ref's queue (see <see cref="PendingQueue"/>): written only when a chunk retires, the ref is
/// paused, or a pull request's approval label is added or removed.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record RefQueueIndex
{
    [Id(0)] public long FirstChunk { get; init; }

    [Id(1)] public bool Paused { get; init; }

    /// <summary>Who added the approval label that is on the ref's pull request; null or "" when it is not on it (or not known).</summary>
    [Id(2)] public string? LabelledBy { get; init; }
}

/// <summary>
/// One chunk of a ref's queue, at most <see cref="PendingQueue.ChunkSize"/> events: what GitHub waits
/// for is the write of the chunk its event lands in, which stays small however long the queue.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record RefQueueChunk
{
    [Id(0)] public ImmutableList<PendingEvent> Events { get; init; } = [];
}

/// <summary>
/// The part written when an event finishes: the bounded history and the last processed commit of the
/// ref's push chain. Its size does not grow with the ref's traffic: the delivery ids remembered for
/// de-duplication live in the catalog's delivery index instead.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record RefHistoryState
{
    [Id(0)] public ImmutableList<HistoryEntry> History { get; init; } = [];

    [Id(2)] public string LastAfter { get; init; } = "";
}
