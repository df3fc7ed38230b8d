namespace CiTrigger.Grains.Abstractions;

/// <summary>How <see cref="IRefGrain.Rerun"/> answered.</summary>
[GenerateSerializer]
public enum RerunStatus
{
    /// <summary>The copy is stored in the ref's queue under <see cref="RerunResult.Delivery"/>.</summary>
    Queued,

    /// <summary>The ref keeps no finished event to re-run: never processed here, or gone from its bounded history.</summary>
    Unknown,

    /// <summary>The delivery is still queued or being processed: there is nothing to run again yet.</summary>
    Unfinished,

    /// <summary>The ref already holds Handler:MaxQueueLength pending events; nothing was stored.</summary>
    Full,

    /// <summary>The webhook that asked (<see cref="RerunRequest.AskedBy"/>) was handled before; nothing was stored again.</summary>
    Duplicate,
}

/// <summary>
/// A request to run a finished event of the ref again: the event of <see cref="Delivery"/>, or, without one,
/// the newest finished event at <see cref="Revision"/>. <see cref="AskedBy"/> is the delivery id of the
/// webhook that asked (a <c>check_run</c> or <c>check_suite</c> <c>rerequested</c>), remembered like any
/// delivery so that GitHub's redelivery of it re-runs nothing twice; null for an operator's request.
/// <see cref="Pipeline"/> (pipeline mode) runs only that pipeline of the event again, whatever its rules.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record RerunRequest(
    [property: Id(0)] string? Delivery,
    [property: Id(1)] string Revision,
    [property: Id(2)] DateTimeOffset ReceivedAt,
    [property: Id(3)] string? AskedBy,
    [property: Id(4)] string? Pipeline = null);

/// <summary>The answer to <see cref="IRefGrain.Rerun"/>: the new delivery id when queued, the event re-run, and why otherwise.</summary>
[GenerateSerializer, Immutable]
public sealed record RerunResult(
    [property: Id(0)] RerunStatus Status,
    [property: Id(1)] string? Delivery,
    [property: Id(2)] string? RerunOf,
    [property: Id(3)] string Message);
