using System.Diagnostics.Metrics;

namespace CiTrigger.Grains.Telemetry;

/// <summary>
/// What the service asks its store to write (meter <see cref="TriggerMetrics.MeterName"/>), by <c>store</c>
/// (<see cref="Sqlite"/>, <see cref="Redis"/>): a count of writes and the bytes they carried. The cost budget of
/// the tests reads them per event (issue 26). What each store counts:
/// <list type="bullet">
/// <item><see cref="Sqlite"/>: every write through <c>SqliteStore</c> (grain state, reminder rows, each catalog
/// call, a prune of old event lines riding on the call that triggers it), one per write once its transaction
/// committed, whether it changed a row or not; bytes are the parameters it bound (text as UTF-8, blobs their
/// length, 8 per number), not SQL text, indexes, journal or pages.</item>
/// <item><see cref="Redis"/>: one per grain-state write with its serialized state only (Orleans' provider builds
/// the key and ETag out of sight; a cleared state's delete is not counted); one per reminder upsert or removal
/// (<c>MeteredReminderTable</c>, bytes as the embedded store binds them); one per changing call of the ref
/// catalog with its keys and values as UTF-8 (a prune's commands not counted). Orleans' cluster membership
/// writes (<c>Orleans:Clustering=Redis</c>) do not pass through this code and are not counted.</item>
/// </list>
/// </summary>
public sealed class StoreMetrics
{
    public const string Sqlite = "sqlite";
    public const string Redis = "redis";

    private readonly Counter<long> writes;
    private readonly Counter<long> bytes;

    public StoreMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(TriggerMetrics.MeterName);
        writes = meter.CreateCounter<long>("citrigger.store.writes", "{write}", "Writes asked of the store (grain state, reminders, catalog calls), by store");
        bytes = meter.CreateCounter<long>("citrigger.store.written", "By", "Bytes of keys and values handed to the store with its writes, by store");
    }

    public void Written(string store, long count, long byteCount)
    {
        var tag = new KeyValuePair<string, object?>("store", store);
        writes.Add(count, tag);
        bytes.Add(byteCount, tag);
    }
}
