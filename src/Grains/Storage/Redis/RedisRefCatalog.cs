using System.Text;
using System.Text.Json;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Telemetry;
using StackExchange.Redis;

namespace CiTrigger.Grains.Storage.Redis;

/// <summary>
/// The ref catalog in Redis: one hash of summaries (field = ref key), one expiring key per delivery, so
/// the delivery index bounds itself, and the recent events as a hash of lines beside a sorted set of
/// their deliveries by acceptance time, from which the oldest are popped to keep the bound. Each call that
/// changes something counts as one write in <see cref="StoreMetrics"/>, with the bytes of its keys and values.
/// </summary>
public sealed class RedisRefCatalog(RedisConnection redis, string prefix, DeliveryIndexOptions options, TimeProvider time, StoreMetrics? metrics = null) : IRefCatalog
{
    // Lines are read in chunks while a filtered page fills.
    private const int ReadChunk = 256;

    private readonly RedisKey refs = prefix + "/refs";
    private readonly RedisKey eventOrder = prefix + "/events";
    private readonly RedisKey eventLines = prefix + "/event-lines";
    private readonly RedisKey running = prefix + "/running";
    private int eventsSincePrune;

    public Task RecordRefAsync(RefSummary summary) => RecordAsync(summary, []);

    public async Task RecordDeliveryAsync(string delivery, string key, DateTimeOffset at)
    {
        var deliveryKey = DeliveryKey(delivery);
        await (await DbAsync()).StringSetAsync(deliveryKey, key, options.DedupeRetention);
        Written(deliveryKey, key);
    }

    public async Task RecordManifestAsync(string delivery, string manifest)
    {
        var manifestKey = ManifestKey(delivery);
        await (await DbAsync()).StringSetAsync(manifestKey, manifest, options.DedupeRetention);
        Written(manifestKey, manifest);
    }

    public async Task<string?> FindManifestAsync(string delivery) => await (await DbAsync()).StringGetAsync(ManifestKey(delivery));

    public async Task ForgetDeliveryAsync(string delivery)
    {
        var deliveryKey = DeliveryKey(delivery);
        await (await DbAsync()).KeyDeleteAsync(deliveryKey);
        Written(deliveryKey);
    }

    public async Task<RefPage> ListAsync(RefQuery query)
    {
        var entries = await (await DbAsync()).HashGetAllAsync(refs);
        var ordered = entries
            .Select(e => JsonSerializer.Deserialize((string)e.Value!, CatalogJson.Default.RefSummary)!)
            .OrderBy(s => s.Key, StringComparer.Ordinal);
        return RefQueryFilter.Page(ordered, query);
    }

    public async Task RecordEventsAsync(IReadOnlyList<EventSummary> events)
    {
        if (events.Count == 0)
        {
            return;
        }

        var db = await DbAsync();
        var lines = EventLines(events);
        await Task.WhenAll(WriteEvents(db, events, lines));
        if (metrics is not null)
        {
            metrics.Written(StoreMetrics.Redis, 1, EventBytes(lines));
        }

        await PruneNowAndThenAsync(db, events.Count);
    }

    public async Task RecordAsync(RefSummary summary, IReadOnlyList<EventSummary> events)
    {
        var json = JsonSerializer.Serialize(summary, CatalogJson.Default.RefSummary);
        var db = await DbAsync();
        var lines = EventLines(events);
        // One round trip: the ref's line and the event lines are sent together (pipelined), counted as one write.
        await Task.WhenAll([db.HashSetAsync(refs, summary.Key, json), .. events.Count == 0 ? [] : WriteEvents(db, events, lines)]);
        if (metrics is not null)
        {
            metrics.Written(StoreMetrics.Redis, 1, Size(refs) + Size(summary.Key) + Size(json) + (events.Count == 0 ? 0 : EventBytes(lines)));
        }

        await PruneNowAndThenAsync(db, events.Count);
    }

    private static HashEntry[] EventLines(IReadOnlyList<EventSummary> events) =>
        [.. events.Select(e => new HashEntry(e.Delivery, JsonSerializer.Serialize(e, CatalogJson.Default.EventSummary)))];

    private Task[] WriteEvents(IDatabase db, IReadOnlyList<EventSummary> events, HashEntry[] lines) =>
    [
        db.HashSetAsync(eventLines, lines),
        db.SortedSetAddAsync(eventOrder, [.. events.Select(e => new SortedSetEntry(e.Delivery, e.AcceptedAt.ToUnixTimeMilliseconds()))]),
    ];

    // The lines with their fields, and each delivery again with its score in the order.
    private long EventBytes(HashEntry[] lines) =>
        Size(eventLines) + Size(eventOrder) + lines.Sum(line => 2 * Size(line.Name!) + Size(line.Value!) + sizeof(double));

    private async Task PruneNowAndThenAsync(IDatabase db, int written)
    {
        if (written > 0 && Interlocked.Add(ref eventsSincePrune, written) >= EventQueryFilter.LinesPerPrune)
        {
            Interlocked.Exchange(ref eventsSincePrune, 0);
            await PruneEventsAsync(db);
        }
    }

    public async Task<EventPage> ListEventsAsync(EventQuery query)
    {
        var db = await DbAsync();
        var newest = EventQuery.TryParseCursor(query.Before, out var at, out _) ? at : double.PositiveInfinity;
        var lines = new List<EventSummary>();
        for (long skip = 0; lines.Count <= query.Limit; skip += ReadChunk)
        {
            var deliveries = await db.SortedSetRangeByScoreAsync(eventOrder, double.NegativeInfinity, newest, Exclude.None, Order.Descending, skip, ReadChunk);
            if (deliveries.Length == 0)
            {
                break;
            }

            // A delivery popped by a prune between the two reads has no line any more; it is left out.
            var values = await db.HashGetAsync(eventLines, deliveries);
            lines.AddRange(values.Where(v => v.HasValue)
                .Select(v => JsonSerializer.Deserialize((string)v!, CatalogJson.Default.EventSummary)!)
                .Where(line => EventQueryFilter.Matches(line, query)));
        }

        return EventQueryFilter.Page(lines, query);
    }

    public async Task<string?> FindDeliveryAsync(string delivery) => await (await DbAsync()).StringGetAsync(DeliveryKey(delivery));

    // One hash field per unfinished run, "key start-in-ms": the set is as small as the runs in flight.
    public async Task RecordRunningAsync(string delivery, string key, DateTimeOffset startedAt)
    {
        var value = $"{startedAt.ToUnixTimeMilliseconds()} {key}";
        await (await DbAsync()).HashSetAsync(running, delivery, value, When.NotExists);
        Written(running, delivery, value);
    }

    public async Task ForgetRunningAsync(string delivery)
    {
        await (await DbAsync()).HashDeleteAsync(running, delivery);
        Written(running, delivery);
    }

    public async Task<IReadOnlyList<RunningRun>> ListRunningAsync()
    {
        var entries = await (await DbAsync()).HashGetAllAsync(running);
        return [.. entries.Select(e => ((string)e.Name!, ((string)e.Value!).Split(' ', 2)))
            .Select(e => new RunningRun(e.Item1, e.Item2[1], DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(e.Item2[0], System.Globalization.CultureInfo.InvariantCulture))))
            .OrderBy(r => r.Delivery, StringComparer.Ordinal)];
    }

    public async Task<bool> PingAsync(CancellationToken cancellationToken)
    {
        await (await DbAsync().WaitAsync(cancellationToken)).PingAsync().WaitAsync(cancellationToken);
        return true;
    }

    /// <summary>Pops the events older than the delivery retention and those beyond the bound, oldest first, and drops their lines.</summary>
    private async Task PruneEventsAsync(IDatabase db)
    {
        var cutoff = (time.GetUtcNow() - options.DedupeRetention).ToUnixTimeMilliseconds();
        var expired = await db.SortedSetRangeByScoreAsync(eventOrder, double.NegativeInfinity, cutoff, Exclude.Stop);
        if (expired.Length > 0)
        {
            await db.SortedSetRemoveAsync(eventOrder, expired);
            await db.HashDeleteAsync(eventLines, expired);
        }

        var excess = await db.SortedSetLengthAsync(eventOrder) - EventQueryFilter.Kept;
        if (excess > 0)
        {
            var popped = await db.SortedSetPopAsync(eventOrder, excess, Order.Ascending);
            await db.HashDeleteAsync(eventLines, [.. popped.Select(p => p.Element)]);
        }
    }

    private void Written(RedisKey key, params ReadOnlySpan<string> values)
    {
        if (metrics is null)
        {
            return;
        }

        var bytes = Size(key);
        foreach (var value in values)
        {
            bytes += Size(value);
        }

        metrics.Written(StoreMetrics.Redis, 1, bytes);
    }

    private static long Size(string text) => Encoding.UTF8.GetByteCount(text);

    private static long Size(RedisKey key) => Size((string)key!);

    private static long Size(RedisValue value) => value.IsNull ? 0 : (long)value.Length();

    private async Task<IDatabase> DbAsync() => (await redis.ConnectAsync()).GetDatabase();

    private RedisKey DeliveryKey(string delivery) => prefix + "/delivery/" + delivery;

    private RedisKey ManifestKey(string delivery) => prefix + "/manifest/" + delivery;
}
