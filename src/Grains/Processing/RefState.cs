using System.Collections.Immutable;
using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Grains.Processing;

/// <summary>
/// The part of a ref's state written on every accepted event: kept small, because its write is what
/// GitHub waits for.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record RefQueueState
{
    [Id(0)] public ImmutableList<PendingEvent> Pending { get; init; } = [];

    [Id(1)] public bool Paused { get; init; }
}

/// <summary>
/// The part written when an event finishes: the bounded history and the last processed commit of the
/// ref's push chain. Its size does not grow with the ref's traffic: the delivery ids remembered for
/// de-duplication live in the catalog's delivery index instead.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record RefLogState
{
    [Id(0)] public ImmutableList<HistoryEntry> History { get; init; } = [];

    [Id(2)] public string LastAfter { get; init; } = "";
}
