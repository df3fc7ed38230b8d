using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Storage;
using CiTrigger.Grains.Storage.Redis;
using CiTrigger.Grains.Storage.Sqlite;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.Unit;

/// <summary>The catalog's recent events, the same in both backends: one line per delivery, newest first, filtered, paged, bounded.</summary>
public class RecentEventsCatalogTests
{
    private static readonly DateTimeOffset Start = DateTimeOffset.UtcNow.AddHours(-1);

    public static TheoryData<string> Backends => ["sqlite", "redis"];

    private sealed class Catalog(IRefCatalog catalog, IAsyncDisposable? store, RedisServer? redis) : IAsyncDisposable
    {
        public IRefCatalog Events => catalog;

        public static async Task<Catalog> OpenAsync(string backend)
        {
            var options = new DeliveryIndexOptions();
            if (backend == "sqlite")
            {
                var store = new SqliteStore(Path.Combine(Directory.CreateTempSubdirectory("citrigger-events-").FullName, "catalog.db"));
                return new Catalog(new SqliteRefCatalog(store, TimeProvider.System, options), store, null);
            }

            var redis = await RedisServer.StartAsync();
            return new Catalog(new RedisRefCatalog(new RedisConnection(redis.ConnectionString), "test", options, TimeProvider.System), null, redis);
        }

        public async ValueTask DisposeAsync()
        {
            if (store is not null)
            {
                await store.DisposeAsync();
            }

            if (redis is not null)
            {
                await redis.DisposeAsync();
            }
        }
    }

    private static EventSummary Line(int n, string repository = "octo/app", string gitRef = "refs/heads/main", string state = EventStates.Queued, string? error = null) =>
        new($"delivery-{n:D6}", RefKey.For(repository, gitRef), repository, gitRef, "push", "", Payloads.Sha(n), state,
            Start.AddMilliseconds(n), null, 0, error, null, Start, null);

    private static async Task<List<EventSummary>> AllAsync(IRefCatalog catalog, EventQuery query)
    {
        var all = new List<EventSummary>();
        for (var page = await catalog.ListEventsAsync(query); ; page = await catalog.ListEventsAsync(query with { Before = page.Next }))
        {
            all.AddRange(page.Events);
            if (page.Next is null)
            {
                return all;
            }
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task Events_are_listed_newest_first_with_one_line_per_delivery_in_its_latest_state(string backend)
    {
        await using var catalog = await Catalog.OpenAsync(backend);
        await catalog.Events.RecordEventsAsync([Line(1), Line(2), Line(3)]);
        await catalog.Events.RecordEventsAsync([Line(2, state: EventStates.InFlight)]);
        await catalog.Events.RecordEventsAsync([Line(2, state: EventStates.Failed, error: "manifest missing")]);

        var page = await catalog.Events.ListEventsAsync(new EventQuery(null, null, null, 10, null));

        Assert.Equal(["delivery-000003", "delivery-000002", "delivery-000001"], page.Events.Select(e => e.Delivery));
        Assert.Equal((EventStates.Failed, "manifest missing"), (page.Events[1].State, page.Events[1].Error));
        Assert.Null(page.Next);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task Filters_by_repository_state_and_text_combine_and_pages_continue_where_the_last_ended(string backend)
    {
        await using var catalog = await Catalog.OpenAsync(backend);
        await catalog.Events.RecordEventsAsync([.. Enumerable.Range(1, 25).Select(n => Line(n,
            repository: n % 2 == 0 ? "octo/even" : "octo/odd",
            gitRef: n % 5 == 0 ? "refs/heads/release" : "refs/heads/main",
            state: n % 3 == 0 ? EventStates.Failed : EventStates.Applied,
            error: n % 3 == 0 ? $"refused object {n}" : null))]);

        var even = await AllAsync(catalog.Events, new EventQuery("OCTO/Even", null, null, 4, null));
        var failedOdd = await AllAsync(catalog.Events, new EventQuery("octo/odd", EventStates.Failed, null, 2, null));
        var release = await AllAsync(catalog.Events, new EventQuery(null, null, "RELEASE", 3, null));
        var byError = await AllAsync(catalog.Events, new EventQuery(null, null, "object 21", 3, null));
        var first = await catalog.Events.ListEventsAsync(new EventQuery(null, null, null, 10, null));

        Assert.Equal(Enumerable.Range(1, 25).Where(n => n % 2 == 0).Reverse().Select(n => $"delivery-{n:D6}"), even.Select(e => e.Delivery));
        Assert.Equal([21, 15, 9, 3], failedOdd.Select(e => int.Parse(e.Delivery[9..], System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal([25, 20, 15, 10, 5], release.Select(e => int.Parse(e.Delivery[9..], System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal("delivery-000021", Assert.Single(byError).Delivery);
        Assert.Equal((10, "delivery-000016"), (first.Events.Count, first.Events[^1].Delivery));
        Assert.Equal(EventQuery.CursorAfter(first.Events[^1]), first.Next);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task The_oldest_events_beyond_the_bound_and_those_past_the_retention_are_pruned(string backend)
    {
        await using var catalog = await Catalog.OpenAsync(backend);
        var expired = Line(0) with { Delivery = "expired", AcceptedAt = DateTimeOffset.UtcNow - TimeSpan.FromDays(5) };
        await catalog.Events.RecordEventsAsync([expired]);
        const int Written = EventQueryFilter.Kept + 600;
        foreach (var batch in Enumerable.Range(1, Written).Chunk(100))
        {
            await catalog.Events.RecordEventsAsync([.. batch.Select(n => Line(n))]);
        }

        async Task<bool> Kept(string delivery) =>
            (await catalog.Events.ListEventsAsync(new EventQuery(null, null, delivery, 1, null))).Events.Count == 1;

        Assert.False(await Kept("expired"));
        Assert.False(await Kept("delivery-000001"));
        Assert.False(await Kept("delivery-000500"));
        Assert.True(await Kept("delivery-000601"));
        Assert.True(await Kept($"delivery-{Written:D6}"));
    }
}
