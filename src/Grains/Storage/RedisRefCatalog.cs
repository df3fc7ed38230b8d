using System.Text.Json;
using CiTrigger.Grains.Abstractions;
using StackExchange.Redis;

namespace CiTrigger.Grains.Storage;

/// <summary>
/// The ref catalog in Redis: one hash of summaries (field = ref key) and one expiring key per delivery,
/// so the delivery index bounds itself.
/// </summary>
public sealed class RedisRefCatalog(IConnectionMultiplexer redis, string prefix, HandlerOptions options) : IRefCatalog
{
    private readonly RedisKey refs = prefix + "/refs";

    private IDatabase Db => redis.GetDatabase();

    public Task RecordRefAsync(RefSummary summary) =>
        Db.HashSetAsync(refs, summary.Key, JsonSerializer.Serialize(summary, CatalogJson.Default.RefSummary));

    public Task RecordDeliveryAsync(string delivery, string key, DateTimeOffset at) =>
        Db.StringSetAsync(DeliveryKey(delivery), key, options.DedupeRetention);

    public async Task<RefPage> ListAsync(RefQuery query)
    {
        var entries = await Db.HashGetAllAsync(refs);
        var ordered = entries
            .Select(e => JsonSerializer.Deserialize((string)e.Value!, CatalogJson.Default.RefSummary)!)
            .OrderBy(s => s.Key, StringComparer.Ordinal);
        return RefQueryFilter.Page(ordered, query);
    }

    public async Task<string?> FindDeliveryAsync(string delivery) => await Db.StringGetAsync(DeliveryKey(delivery));

    public async Task<bool> PingAsync(CancellationToken cancellationToken)
    {
        await Db.PingAsync().WaitAsync(cancellationToken);
        return true;
    }

    private RedisKey DeliveryKey(string delivery) => prefix + "/delivery/" + delivery;
}
