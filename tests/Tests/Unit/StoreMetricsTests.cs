using System.Diagnostics.Metrics;
using CiTrigger.Grains.Storage.Redis;
using CiTrigger.Grains.Storage.Sqlite;
using CiTrigger.Grains.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace CiTrigger.Tests.Unit;

/// <summary>What the stores count of their writes (<see cref="StoreMetrics"/>): one per write asked of them, and the bytes it carried.</summary>
public sealed class StoreMetricsTests : IAsyncDisposable
{
    private readonly ServiceProvider services = new ServiceCollection().AddMetrics().AddSingleton<StoreMetrics>().BuildServiceProvider();
    private readonly MeterListener listener = new();
    private readonly Dictionary<(string Instrument, string Store), long> counted = [];
    private readonly SqliteStore store;

    public StoreMetricsTests()
    {
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == TriggerMetrics.MeterName && instrument.Name.StartsWith("citrigger.store.", StringComparison.Ordinal))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var tag = Assert.Single(tags.ToArray());
            Assert.Equal("store", tag.Key);
            lock (counted)
            {
                var key = (instrument.Name, (string)tag.Value!);
                counted[key] = counted.GetValueOrDefault(key) + value;
            }
        });
        listener.Start();
        store = new SqliteStore(Path.Combine(Directory.CreateTempSubdirectory("citrigger-store-metrics-").FullName, "store.db"), Metrics);
    }

    private StoreMetrics Metrics => services.GetRequiredService<StoreMetrics>();

    [Fact]
    public async Task A_write_counts_once_with_every_parameter_it_bound_even_when_it_runs_one_command_several_times()
    {
        await store.WriteAsync(w =>
        {
            foreach (var (id, key) in new[] { ("d1", "octo/repo:refs/heads/main"), ("delivery-2", "octo/repo:refs/heads/é") })
            {
                var command = w.Command("INSERT INTO deliveries (id, key, at) VALUES ($id, $key, $at)");
                command.Parameters.AddWithValue("$id", id);
                command.Parameters.AddWithValue("$key", key);
                command.Parameters.AddWithValue("$at", 1_700_000_000_000L);
                command.ExecuteNonQuery();
            }

            return 0;
        });
        await store.WriteAsync(w =>
        {
            var command = w.Command("INSERT INTO grain_state (grain_id, state_name, etag, data) VALUES ($id, $name, 1, $data)");
            command.Parameters.AddWithValue("$id", "ref/octo");
            command.Parameters.AddWithValue("$name", "queue");
            command.Parameters.AddWithValue("$data", new byte[100]);
            return command.ExecuteNonQuery();
        });

        Assert.Equal(2, counted[("citrigger.store.writes", StoreMetrics.Sqlite)]);

        // Text as UTF-8 ('é' is two bytes), numbers eight bytes, blobs their length.
        Assert.Equal((2 + 25 + 8) + (10 + 23 + 8) + (8 + 5 + 100), counted[("citrigger.store.written", StoreMetrics.Sqlite)]);
    }

    [Fact]
    public async Task A_reminder_row_counts_alike_in_both_stores()
    {
        var entry = new ReminderEntry
        {
            GrainId = GrainId.Create("ref", "octo/repo:refs/heads/main"),
            ReminderName = "pending",
            StartAt = DateTime.UtcNow,
            Period = TimeSpan.FromMinutes(1),
        };
        var sqlite = new SqliteReminderTable(store);
        var sqliteTag = await sqlite.UpsertRow(entry);
        var redis = new MeteredReminderTable(new StubReminderTable(sqliteTag!), Metrics);
        await redis.UpsertRow(entry);
        await sqlite.RemoveRow(entry.GrainId, entry.ReminderName, sqliteTag!);
        await redis.RemoveRow(entry.GrainId, entry.ReminderName, sqliteTag!);

        Assert.Equal(2, counted[("citrigger.store.writes", StoreMetrics.Redis)]);
        Assert.Equal(counted[("citrigger.store.writes", StoreMetrics.Sqlite)], counted[("citrigger.store.writes", StoreMetrics.Redis)]);
        Assert.Equal(counted[("citrigger.store.written", StoreMetrics.Sqlite)], counted[("citrigger.store.written", StoreMetrics.Redis)]);
    }

    public async ValueTask DisposeAsync()
    {
        await store.DisposeAsync();
        listener.Dispose();
        await services.DisposeAsync();
    }

    /// <summary>A table that answers every upsert with <paramref name="etag"/> and stores nothing.</summary>
    private sealed class StubReminderTable(string etag) : IReminderTable
    {
        public Task Init() => Task.CompletedTask;

        public Task<ReminderTableData> ReadRows(GrainId grainId) => Task.FromResult(new ReminderTableData());

        public Task<ReminderTableData> ReadRows(uint begin, uint end) => Task.FromResult(new ReminderTableData());

        public Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName) => Task.FromResult<ReminderEntry?>(null);

        public Task<string?> UpsertRow(ReminderEntry entry) => Task.FromResult<string?>(etag);

        public Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag) => Task.FromResult(true);

        public Task TestOnlyClearTable() => Task.CompletedTask;
    }
}
