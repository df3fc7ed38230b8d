using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Grains.Storage;

/// <summary>
/// An index beside the grain state: one summary per ref, the ref each delivery went to, and a bounded
/// list of recent events across refs. Ref grains
/// keep it up to date off their hot path; it may trail the grains by a moment, never the other way.
/// </summary>
public interface IRefCatalog
{
    Task RecordRefAsync(RefSummary summary);

    /// <summary>
    /// The ref's line and the current lines of its changed events (<see cref="RecordEventsAsync"/>; none is fine) in one
    /// write: a ref's published change costs one store write, not two.
    /// </summary>
    Task RecordAsync(RefSummary summary, IReadOnlyList<EventSummary> events);

    Task RecordDeliveryAsync(string delivery, string key, DateTimeOffset at);

    /// <summary>Takes back a delivery record whose event could not be stored, so a redelivery is not mistaken for a duplicate.</summary>
    Task ForgetDeliveryAsync(string delivery);

    Task<RefPage> ListAsync(RefQuery query);

    Task<string?> FindDeliveryAsync(string delivery);

    /// <summary>Keeps the manifest as sent for a delivery (bounded by the caller), as long as the delivery itself is remembered.</summary>
    Task RecordManifestAsync(string delivery, string manifest);

    Task<string?> FindManifestAsync(string delivery);

    /// <summary>
    /// Writes the current line of each event, replacing an older line of the same delivery. The catalog keeps
    /// the newest <see cref="EventQueryFilter.Kept"/> events, none older than the delivery retention.
    /// </summary>
    Task RecordEventsAsync(IReadOnlyList<EventSummary> events);

    Task<EventPage> ListEventsAsync(EventQuery query);

    /// <summary>
    /// Notes a delivery whose run objects are still followed, so a list of run objects reaches exactly the
    /// refs that wait for one (no other ref is activated). Written before the ref's history says so.
    /// </summary>
    Task RecordRunningAsync(string delivery, string key, DateTimeOffset startedAt);

    /// <summary>Takes a delivery out of the unfinished runs (its run finished); forgetting one not there is no error.</summary>
    Task ForgetRunningAsync(string delivery);

    /// <summary>Every delivery with an unfinished run, and the ref it belongs to.</summary>
    Task<IReadOnlyList<RunningRun>> ListRunningAsync();

    /// <summary>Whether the store behind the catalog answers; used by the readiness probe.</summary>
    Task<bool> PingAsync(CancellationToken cancellationToken);
}

/// <summary>A delivery whose run is unfinished, the ref it belongs to and when its run started.</summary>
public sealed record RunningRun(string Delivery, string Key, DateTimeOffset StartedAt);
