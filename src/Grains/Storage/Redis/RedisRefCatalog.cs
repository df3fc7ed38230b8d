using System.Text.Json;
using CiTrigger.Grains.Abstractions;
using StackExchange.Redis;

namespace CiTrigger.Grains.Storage.Redis;

/// <summary>
/// The ref catalog in Redis: one hash of summaries (field = ref key) and one expiring key per delivery,
/// so the delivery index bounds itself.
/// </summary>
public sealed class RedisRefCatalog(RedisConnection redis, string prefix, DeliveryIndexOptions options) : IRefCatalog
{
    private readonly RedisKey refs = prefix + "/refs";

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

    public async Task<string?> FindDeliveryAsync(string delivery) => await (await DbAsync()).StringGetAsync(DeliveryKey(delivery));

    public async Task<bool> PingAsync(CancellationToken cancellationToken)
    {
        await (await DbAsync().WaitAsync(cancellationToken)).PingAsync().WaitAsync(cancellationToken);
        return true;
    }

    private async Task<IDatabase> DbAsync() => (await redis.ConnectAsync()).GetDatabase();

    private RedisKey DeliveryKey(string delivery) => prefix + "/delivery/" + delivery;

    private RedisKey ManifestKey(string delivery) => prefix + "/manifest/" + delivery;
}
