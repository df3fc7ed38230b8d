using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Grains.Processing;

/// <summary>
/// A ref as the admin API, the status page and the catalog show it, read from its queue and history and
/// from what its activation knows without storing (<see cref="RefActivity"/>).
/// </summary>
public sealed class RefView(string key, PendingQueue queue, RefHistory history, RefActivity activity, TimeProvider time)
{
    /// <summary>Whether the ref is paused: by an operator, or with its repository.</summary>
    public bool Paused => queue.Paused || activity.RepositoryPaused == true;

    public RefSnapshot Snapshot()
    {
        var (repository, gitRef) = RefKey.Split(key);
        return new RefSnapshot(key, repository, gitRef, queue.Paused, activity.InFlight, queue.Pending, history.Entries, history.LastAfter,
            activity.RepositoryPaused == true);
    }

    /// <summary>The ref's line in the catalog.</summary>
    public RefSummary Summarize() =>
        SummaryPublisher.Summarize(key, queue.Pending, Paused, history.Entries.IsEmpty ? null : history.Entries[0], time.GetUtcNow());

    /// <summary>The recent-events lines of <paramref name="deliveries"/> as they stand now.</summary>
    public IReadOnlyList<EventSummary> Describe(IReadOnlyCollection<string> deliveries) =>
        EventLines.Of(key, deliveries, queue.Pending, history.Entries, activity.InFlight, time.GetUtcNow());

    public DeliveryRecord? Find(string delivery)
    {
        if (queue.Pending.Find(p => p.Event.Delivery == delivery) is { } pending)
        {
            return new DeliveryRecord(key, EventStates.OfPending(pending, activity.InFlight), pending.Event, pending.AcceptedAt, pending.Attempts, null);
        }

        return history.Find(delivery) is { } done
            ? new DeliveryRecord(key, EventStates.Of(done), done.Event, done.AcceptedAt, done.Attempts, done)
            : null;
    }
}
