using CiTrigger.Grains.Storage;
using CiTrigger.Grains.Storage.Redis;
using CiTrigger.Grains.Storage.Sqlite;
using CiTrigger.Tests.Fakes;
using Xunit;

namespace CiTrigger.Tests.Unit;

/// <summary>The catalog's set of unfinished runs, the same in both backends and durable across a reopen.</summary>
public class UnfinishedRunsCatalogTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 24, 12, 0, 0, 123, TimeSpan.Zero);

    public static TheoryData<string> Backends => ["sqlite", "redis"];

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task Runs_are_listed_with_their_ref_until_forgotten_and_recording_one_again_keeps_its_start(string backend)
    {
        var directory = Directory.CreateTempSubdirectory("citrigger-running-").FullName;
        await using var redis = backend == "redis" ? await RedisServer.StartAsync() : null;
        IRefCatalog Open(SqliteStore? store) => store is not null
            ? new SqliteRefCatalog(store, TimeProvider.System, new DeliveryIndexOptions())
            : new RedisRefCatalog(new RedisConnection(redis!.ConnectionString), "test", new DeliveryIndexOptions(), TimeProvider.System);

        await using (var store = backend == "sqlite" ? new SqliteStore(Path.Combine(directory, "catalog.db")) : null)
        {
            var catalog = Open(store);
            Assert.Empty(await catalog.ListRunningAsync());
            await catalog.RecordRunningAsync("d2", "octo/app:refs/heads/main", Start);
            await catalog.RecordRunningAsync("d1", "octo/app:refs/pull/7/head", Start.AddMinutes(1));
            await catalog.RecordRunningAsync("d2", "octo/app:refs/heads/main", Start.AddHours(1));
            await catalog.RecordRunningAsync("d3", "octo/lib:refs/heads/dev", Start);
            await catalog.ForgetRunningAsync("d3");
            await catalog.ForgetRunningAsync("never-recorded");
        }

        await using var reopened = backend == "sqlite" ? new SqliteStore(Path.Combine(directory, "catalog.db")) : null;
        Assert.Equal(
            [new RunningRun("d1", "octo/app:refs/pull/7/head", Start.AddMinutes(1)), new RunningRun("d2", "octo/app:refs/heads/main", Start)],
            await Open(reopened).ListRunningAsync());
    }
}
