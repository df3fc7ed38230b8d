using CiTrigger.Grains.Storage;
using CiTrigger.Grains.Storage.Redis;
using CiTrigger.Grains.Storage.Sqlite;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.Unit.Catalog;

/// <summary>The catalog contract on SQLite: a file of its own per test, opened again by a new store (the silo restarted).</summary>
public sealed class SqliteCatalogTests : CatalogContract
{
    private readonly string path = Path.Combine(Directory.CreateTempSubdirectory("citrigger-catalog-").FullName, "catalog.db");
    private SqliteStore? store;

    protected override async Task<IRefCatalog> OpenAsync()
    {
        await DisposeAsync();
        store = new SqliteStore(path);
        return new SqliteRefCatalog(store, TimeProvider.System, new DeliveryIndexOptions());
    }

    public override async ValueTask DisposeAsync()
    {
        if (store is not null)
        {
            await store.DisposeAsync();
            store = null;
        }
    }
}

/// <summary>The catalog contract on a real <c>redis-server</c>, started once for the class; each test under a service id of its own.</summary>
public sealed class RedisCatalogTests(RedisServerFixture redis) : CatalogContract, IClassFixture<RedisServerFixture>
{
    private readonly string serviceId = "catalog-" + Guid.NewGuid().ToString("N");
    private readonly List<RedisConnection> connections = [];

    protected override Task<IRefCatalog> OpenAsync()
    {
        var connection = new RedisConnection(redis.Server.ConnectionString);
        connections.Add(connection);
        return Task.FromResult<IRefCatalog>(new RedisRefCatalog(connection, serviceId, new DeliveryIndexOptions(), TimeProvider.System));
    }

    public override async ValueTask DisposeAsync()
    {
        foreach (var connection in connections)
        {
            await (await connection.ConnectAsync()).DisposeAsync();
        }
    }
}

/// <summary>The catalog contract on the in-memory fake of the grain tests: it has no store to reopen, so it hands back itself.</summary>
public sealed class MemoryCatalogTests : CatalogContract
{
    private readonly MemoryRefCatalog catalog = new();

    protected override Task<IRefCatalog> OpenAsync() => Task.FromResult<IRefCatalog>(catalog);

    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
