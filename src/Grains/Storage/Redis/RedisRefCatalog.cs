using System.Text.Json;
using CiTrigger.Grains.Abstractions;
using StackExchange.Redis;

namespace CiTrigger.Grains.Storage.Redis;

/// <summary>
/// The ref catalog in Redis: one hash of summaries (field = ref key), one expiring key per delivery, so
/// the delivery index bounds itself, and the recent events as a hash of lines beside a sorted set of
/// their deliveries by acceptance time, from which the oldest are popped to keep the bound.
/// </summary>
public sealed class RedisRefCatalog(RedisConnection redis, string prefix, DeliveryIndexOptions options, TimeProvider time) : IRefCatalog
{
    // Lines are read in chunks while a filtered page fills.
    private const int ReadChunk = 256;

    private readonly RedisKey refs = prefix + "/refs";
    private readonly RedisKey eventOrder = prefix + "/events";
    private readonly RedisKey eventLines = prefix + "/event-lines";
    private readonly RedisKey running = prefix + "/running";
    private int eventsSincePrune;

    public async Task RecordRefAsync(RefSummary summary) =>
        await (await DbAsync()).HashSetAsync(refs, summary.Key, JsonSerializer.Serialize(summary, CatalogJson.Default.RefSummary));

    public async Task RecordDeliveryAsync(string delivery, string key, DateTimeOffset at) =>
        await (await DbAsync()).StringSetAsync(DeliveryKey(delivery), key, options.DedupeRetention);

    public async Task RecordManifestAsync(string delivery, string manifest) =>
        await (await DbAsync()).StringSetAsync(ManifestKey(delivery), manifest, options.DedupeRetention);

    public async Task<string?> FindManifestAsync(string delivery) => await (await DbAsync()).StringGetAsync(ManifestKey(delivery));

    public async Task ForgetDeliveryAsync(string delivery) => await (await DbAsync()).KeyDeleteAsync(DeliveryKey(delivery));

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
        await Task.WhenAll(
            db.HashSetAsync(eventLines, [.. events.Select(e => new HashEntry(e.Delivery, JsonSerializer.Serialize(e, CatalogJson.Default.EventSummary)))]),
            db.SortedSetAddAsync(eventOrder, [.. events.Select(e => new SortedSetEntry(e.Delivery, e.AcceptedAt.ToUnixTimeMilliseconds()))]));
        if (Interlocked.Add(ref eventsSincePrune, events.Count) >= EventQueryFilter.LinesPerPrune)
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
    public async Task RecordRunningAsync(string delivery, string key, DateTimeOffset startedAt) =>
        await (await DbAsync()).HashSetAsync(running, delivery, $"{startedAt.ToUnixTimeMilliseconds()} {key}", When.NotExists);

    public async Task ForgetRunningAsync(string delivery) => await (await DbAsync()).HashDeleteAsync(running, delivery);

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

    private async Task<IDatabase> DbAsync() => (await redis.ConnectAsync()).GetDatabase();

    private RedisKey DeliveryKey(string delivery) => prefix + "/delivery/" + delivery;

    private RedisKey ManifestKey(string delivery) => prefix + "/manifest/" + delivery;
}
