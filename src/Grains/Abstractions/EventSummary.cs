using System.Globalization;

namespace CiTrigger.Grains.Abstractions;

/// <summary>
/// Where an event stands. The status page and the admin API use these words. An applied event whose run
/// objects are followed is <c>running</c>, then <c>succeeded</c>, <c>failed</c>, <c>cancelled</c> or
/// <c>timed-out</c> with its run; one without run objects stays <c>applied</c>.
/// </summary>
public static class EventStates
{
    public const string Queued = "queued";
    /// <summary>A pull request's event held until a trusted user approves it (the ref's state is <c>waiting</c> then too).</summary>
    public const string WaitingForApproval = "waiting";
    public const string InFlight = "in-flight";
    public const string Retrying = "retrying";
    public const string Applied = "applied";
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
    public const string TimedOut = "timed-out";
    public const string Skipped = "skipped";

    /// <summary>Every state, in the order an event moves through them.</summary>
    public static readonly IReadOnlyList<string> All =
        [Queued, WaitingForApproval, InFlight, Retrying, Applied, Running, Succeeded, Failed, Cancelled, TimedOut, Skipped];

    /// <summary>The state of a finished event.</summary>
    public static string Of(Outcome outcome) => outcome switch
    {
        Outcome.Applied => Applied,
        Outcome.Failed => Failed,
        _ => Skipped,
    };

    /// <summary>The state of a processed event: its run's, when it has one, else its outcome's.</summary>
    public static string Of(HistoryEntry entry) => entry.Run?.Result switch
    {
        null => Of(entry.Outcome),
        RunResult.Running => Running,
        RunResult.Success => Succeeded,
        RunResult.Failure => Failed,
        RunResult.Cancelled => Cancelled,
        _ => TimedOut,
    };

    /// <summary>The state of a pending event: being attempted, held for approval, attempted before, or not yet.</summary>
    public static string OfPending(PendingEvent pending, string? inFlight) =>
        pending.Event.Delivery == inFlight ? InFlight
        : pending.AwaitingApproval ? WaitingForApproval
        : pending.Attempts.IsEmpty ? Queued
        : Retrying;
}

/// <summary>
/// One line of the catalog's recent events, across all refs: enough to list and filter what every
/// repository and branch is doing without activating a ref. Written by the ref as the event moves.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record EventSummary(
    [property: Id(0)] string Delivery,
    [property: Id(1)] string Key,
    [property: Id(2)] string Repository,
    [property: Id(3)] string Ref,
    [property: Id(4)] string EventType,
    [property: Id(5)] string Action,
    [property: Id(6)] string Revision,
    [property: Id(7)] string State,
    [property: Id(8)] DateTimeOffset AcceptedAt,
    [property: Id(9)] DateTimeOffset? FinishedAt,
    [property: Id(10)] int Attempts,
    [property: Id(11)] string? Error,
    [property: Id(12)] AppliedObject? FirstObject,
    [property: Id(13)] DateTimeOffset UpdatedAt,
    [property: Id(14)] DateTimeOffset? NextAttemptAt);

/// <summary>
/// A filter over the recent events: <see cref="State"/> one of <see cref="EventStates.All"/>,
/// <see cref="Text"/> a case-insensitive part of the delivery, repository, ref, event, revision or error.
/// Newest first; <see cref="Before"/> is the <see cref="EventPage.Next"/> of the previous page.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record EventQuery(
    [property: Id(0)] string? Repository,
    [property: Id(1)] string? State,
    [property: Id(2)] string? Text,
    [property: Id(3)] int Limit,
    [property: Id(4)] string? Before)
{
    /// <summary>The position after <paramref name="last"/> in newest-first order, as a page cursor.</summary>
    public static string CursorAfter(EventSummary last) =>
        last.AcceptedAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) + "_" + last.Delivery;

    /// <summary>Reads a cursor made by <see cref="CursorAfter"/>; false for anything else.</summary>
    public static bool TryParseCursor(string? cursor, out long acceptedAt, out string delivery)
    {
        var separator = cursor?.IndexOf('_', StringComparison.Ordinal) ?? -1;
        delivery = separator > 0 ? cursor![(separator + 1)..] : "";
        acceptedAt = 0;
        return separator > 0
            && long.TryParse(cursor.AsSpan(0, separator), NumberStyles.None, CultureInfo.InvariantCulture, out acceptedAt)
            && Names.IsDeliveryId(delivery);
    }
}

/// <summary>One page of recent events, newest first; <see cref="Next"/> continues with older ones.</summary>
[GenerateSerializer, Immutable]
public sealed record EventPage(
    [property: Id(0)] IReadOnlyList<EventSummary> Events,
    [property: Id(1)] string? Next);
