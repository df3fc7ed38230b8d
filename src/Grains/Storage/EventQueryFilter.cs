using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Grains.Storage;

/// <summary>The meaning of <see cref="EventQuery"/> filters and pages, shared by every catalog.</summary>
public static class EventQueryFilter
{
    /// <summary>How many recent events a catalog keeps (the oldest beyond this are pruned).</summary>
    public const int Kept = 10_000;

    /// <summary>How many lines a catalog writes between two prunes to <see cref="Kept"/> and the delivery retention (not every write prunes).</summary>
    public const int LinesPerPrune = 500;

    /// <summary>Positive when the other event comes after the first in newest-first order (accepted earlier, or at the same moment with a smaller delivery id).</summary>
    public static int Compare(long acceptedAt, string delivery, long otherAcceptedAt, string otherDelivery)
    {
        var byTime = acceptedAt.CompareTo(otherAcceptedAt);
        return byTime != 0 ? byTime : string.CompareOrdinal(delivery, otherDelivery);
    }

    public static bool Matches(EventSummary line, EventQuery query) =>
        (query.Repository is null || string.Equals(line.Repository, query.Repository, StringComparison.OrdinalIgnoreCase))
        && (query.State is null || line.State == query.State)
        && (query.Text is not { Length: > 0 } text || Contains(line, text))
        && (!EventQuery.TryParseCursor(query.Before, out var at, out var delivery)
            || Compare(at, delivery, line.AcceptedAt.ToUnixTimeMilliseconds(), line.Delivery) > 0);

    /// <summary>The first page of <paramref name="newestFirst"/> that matches; reads no more lines than it needs.</summary>
    public static EventPage Page(IEnumerable<EventSummary> newestFirst, EventQuery query)
    {
        var page = newestFirst.Where(e => Matches(e, query)).Take(query.Limit + 1).ToList();
        return page.Count > query.Limit
            ? new EventPage(page[..query.Limit], EventQuery.CursorAfter(page[query.Limit - 1]))
            : new EventPage(page, null);
    }

    private static bool Contains(EventSummary line, string text) =>
        new[] { line.Delivery, line.Repository, line.Ref, line.EventType, line.Action, line.Revision, line.Error ?? "" }
            .Any(field => field.Contains(text, StringComparison.OrdinalIgnoreCase));
}
