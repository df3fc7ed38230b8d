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
/// The index of a ref's history (see <see cref="RefHistory"/>): where its records start, written only when old
/// records are retired. The delivery ids remembered for de-duplication live in the catalog's delivery index.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record RefHistoryState
{
    /// <summary>The whole history as versions before 2026-12-07 stored it, newest first; moved into records on load.</summary>
    [Id(0)] public ImmutableList<HistoryEntry> History { get; init; } = [];

    /// <summary>The push chain's last processed commit when the records were last retired (each record has its own).</summary>
    [Id(2)] public string LastAfter { get; init; } = "";

    /// <summary>The number of the oldest record still stored.</summary>
    [Id(3)] public long FirstRecord { get; init; }
}

/// <summary>
/// One finished event of a ref's history, written when it finishes and again when its run moves on: what such a
/// change costs is this record, however long the history is.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record RefHistoryRecord
{
    [Id(0)] public HistoryEntry? Entry { get; init; }

    /// <summary>The push chain's last processed commit once this event finished.</summary>
    [Id(1)] public string LastAfter { get; init; } = "";
}
