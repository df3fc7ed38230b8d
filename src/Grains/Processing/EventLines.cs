using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Grains.Processing;

/// <summary>A ref's events as lines of the catalog's recent events (see <see cref="EventSummary"/>).</summary>
public static class EventLines
{
    // An error on the overview is a hint; the ref and the delivery keep it whole.
    private const int MaxError = 1000;

    /// <summary>The current lines of <paramref name="deliveries"/>; a delivery the ref no longer keeps is left out.</summary>
    public static IReadOnlyList<EventSummary> Of(
        string key, IReadOnlyCollection<string> deliveries, IEnumerable<PendingEvent> pending, IEnumerable<HistoryEntry> history, string? inFlight, DateTimeOffset now)
    {
        var wanted = new HashSet<string>(deliveries, StringComparer.Ordinal);
        var lines = new List<EventSummary>(wanted.Count);
        foreach (var p in pending.Where(p => wanted.Remove(p.Event.Delivery)))
        {
            var e = p.Event;
            lines.Add(new EventSummary(e.Delivery, key, e.Repository, e.Ref, e.EventType, e.Action, e.Revision,
                EventStates.OfPending(p, inFlight), p.AcceptedAt, null, p.Attempts.Count, Cut(p.Attempts.LastOrDefault()?.Error), null, now, p.NotBefore));
        }

        foreach (var h in history.Where(h => wanted.Remove(h.Event.Delivery)))
        {
            var e = h.Event;
            lines.Add(new EventSummary(e.Delivery, key, e.Repository, e.Ref, e.EventType, e.Action, e.Revision,
                EventStates.Of(h), h.AcceptedAt, h.FinishedAt, h.Attempts.Count, Cut(h.Error), h.Objects.FirstOrDefault(), now, null));
        }

        return lines;
    }

    private static string? Cut(string? error) => error is { Length: > MaxError } ? error[..(MaxError - 1)] + "…" : error;
}
