using CiTrigger.Grains.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Storage;
using StackExchange.Redis;

namespace CiTrigger.Grains.Storage.Redis;

/// <summary>One multiplexer for everything a silo keeps in Redis (clustering included), connected on first use.</summary>
public sealed class RedisConnection
{
    // One connection attempt shared by every caller, started by the first.
    private readonly Lock gate = new();
    private Task<IConnectionMultiplexer>? shared;

    public RedisConnection(string connectionString)
    {
        Configuration = ConfigurationOptions.Parse(connectionString);
        Configuration.AbortOnConnectFail = false;
    }

    public ConfigurationOptions Configuration { get; }

    /// <summary>The silo's one connection, whichever of clustering and storage asks first: registered in <paramref name="services"/> then.</summary>
    public static RedisConnection Of(IServiceCollection services, string connectionString)
    {
        if (services.FirstOrDefault(s => s.ServiceType == typeof(RedisConnection))?.ImplementationInstance is RedisConnection registered)
        {
            return registered;
        }

        var redis = new RedisConnection(connectionString);
        services.AddSingleton(redis);
        return redis;
    }

    public Task<IConnectionMultiplexer> ConnectAsync()
    {
        lock (gate)
        {
            return shared ??= ConnectCoreAsync(Configuration);
        }
    }

    private static async Task<IConnectionMultiplexer> ConnectCoreAsync(ConfigurationOptions configuration) =>
        await ConnectionMultiplexer.ConnectAsync(configuration);

    /// <summary>The shape Orleans' Redis providers ask for: the multiplexer, and that they share it.</summary>
    public async Task<(IConnectionMultiplexer, bool)> ConnectSharedAsync() => (await ConnectAsync(), true);
}

public static class RedisStorageExtensions
{
    /// <summary><c>Storage:Provider=Redis</c>: the Redis of <c>ConnectionStrings:Redis</c>, which every silo of the cluster reaches.</summary>
    public static StorageBackend Backend { get; } = new(
        "Redis",
        OnOneSilo: false,
        context => string.IsNullOrWhiteSpace(context.Configuration.GetConnectionString("Redis"))
            ? [$"ConnectionStrings:Redis: required when {StorageOptions.ProviderKey}=Redis"]
            : [],
        (silo, context) => silo.AddRedisStorage(context.Configuration.GetConnectionString("Redis")!));

    /// <summary>Grain state, reminders and the ref catalog in Redis, through the silo's one connection to it.</summary>
    public static ISiloBuilder AddRedisStorage(this ISiloBuilder silo, string connectionString)
    {
        var redis = RedisConnection.Of(silo.Services, connectionString);
        silo.Services.AddMetrics();
        silo.Services.TryAddSingleton<StoreMetrics>();
        silo.AddRedisGrainStorage(StorageNames.Refs, ob => ob.Configure<Serializer, StoreMetrics>((o, serializer, metrics) =>
        {
            o.ConfigurationOptions = redis.Configuration;
            o.CreateMultiplexer = _ => redis.ConnectSharedAsync();
            o.GrainStorageSerializer = new MeteredStorageSerializer(new OrleansGrainStorageSerializer(serializer), metrics);

            // A ref's queue retires chunk records as they empty; keep Redis from holding on to cleared ones.
            o.DeleteStateOnClear = true;
        }));
        silo.UseRedisReminderService(o =>
        {
            o.ConfigurationOptions = redis.Configuration;
            o.CreateMultiplexer = _ => redis.ConnectSharedAsync();
        });

        // Orleans' table (internal to its package) behind one that counts its writes.
        var reminders = silo.Services.Last(s => s.ServiceType == typeof(IReminderTable));
        silo.Services.Remove(reminders);
        silo.Services.AddSingleton<IReminderTable>(sp => new MeteredReminderTable(
            (IReminderTable)ActivatorUtilities.CreateInstance(sp, reminders.ImplementationType!), sp.GetRequiredService<StoreMetrics>()));

        // The effective service id: in a pod, Orleans' Kubernetes hosting may take it from ORLEANS_SERVICE_ID.
        silo.Services.AddSingleton<IRefCatalog>(sp => new RedisRefCatalog(
            redis,
            sp.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId,
            sp.GetRequiredService<IOptions<DeliveryIndexOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<StoreMetrics>()));
        return silo;
    }
}
