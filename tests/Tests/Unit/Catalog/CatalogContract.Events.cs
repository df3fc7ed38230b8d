using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Storage;
using Xunit;

namespace CiTrigger.Tests.Unit.Catalog;

/// <summary>The recent events: one line per delivery, newest first, filtered, paged, bounded.</summary>
public abstract partial class CatalogContract
{
    [Fact]
    public async Task Events_are_listed_newest_first_with_one_line_per_delivery_in_its_latest_state()
    {
        var catalog = await OpenAsync();
        await catalog.RecordEventsAsync([Line(1), Line(2), Line(3)]);
        await catalog.RecordEventsAsync([Line(2, state: EventStates.InFlight)]);
        await catalog.RecordEventsAsync([Line(2, state: EventStates.Failed, error: "manifest missing")]);

        var page = await catalog.ListEventsAsync(new EventQuery(null, null, null, 10, null));

        Assert.Equal(["delivery-000003", "delivery-000002", "delivery-000001"], page.Events.Select(e => e.Delivery));
        Assert.Equal((EventStates.Failed, "manifest missing"), (page.Events[1].State, page.Events[1].Error));
        Assert.Null(page.Next);
    }

    [Fact]
    public async Task A_refs_line_and_its_events_lines_written_together_are_each_listed_in_their_latest_state()
    {
        var catalog = await OpenAsync();
        await catalog.RecordAsync(Summary("octo/app", "refs/heads/main", RefSummary.Pending, queue: 2), [Line(1), Line(2)]);
        await catalog.RecordAsync(Summary("octo/app", "refs/heads/main", RefSummary.Pending, queue: 1), []);
        await catalog.RecordAsync(Summary("octo/app", "refs/heads/main", RefSummary.FailedState), [Line(2, state: EventStates.Failed, error: "manifest missing")]);

        var refs = await catalog.ListAsync(new RefQuery(null, null, 10, null));
        var events = await catalog.ListEventsAsync(new EventQuery(null, null, null, 10, null));

        Assert.Equal(("octo/app:refs/heads/main", RefSummary.FailedState, 0), refs.Refs.Select(r => (r.Key, r.State, r.QueueLength)).Single());
        Assert.Equal([("delivery-000002", EventStates.Failed), ("delivery-000001", EventStates.Queued)], events.Events.Select(e => (e.Delivery, e.State)));
    }

    [Fact]
    public async Task Filters_by_repository_state_and_text_combine_and_pages_continue_where_the_last_ended()
    {
        var catalog = await OpenAsync();
        await catalog.RecordEventsAsync([.. Enumerable.Range(1, 25).Select(n => Line(n,
            repository: n % 2 == 0 ? "octo/even" : "octo/odd",
            gitRef: n % 5 == 0 ? "refs/heads/release" : "refs/heads/main",
            state: n % 3 == 0 ? EventStates.Failed : EventStates.Applied,
            error: n % 3 == 0 ? $"refused object {n}" : null))]);

        var even = await AllAsync(catalog, new EventQuery("OCTO/Even", null, null, 4, null));
        var failedOdd = await AllAsync(catalog, new EventQuery("octo/odd", EventStates.Failed, null, 2, null));
        var release = await AllAsync(catalog, new EventQuery(null, null, "RELEASE", 3, null));
        var byError = await AllAsync(catalog, new EventQuery(null, null, "object 21", 3, null));
        var first = await catalog.ListEventsAsync(new EventQuery(null, null, null, 10, null));

        Assert.Equal(Enumerable.Range(1, 25).Where(n => n % 2 == 0).Reverse(), even.Select(Number));
        Assert.Equal([21, 15, 9, 3], failedOdd.Select(Number));
        Assert.Equal([25, 20, 15, 10, 5], release.Select(Number));
        Assert.Equal("delivery-000021", Assert.Single(byError).Delivery);
        Assert.Equal((10, "delivery-000016"), (first.Events.Count, first.Events[^1].Delivery));
        Assert.Equal(EventQuery.CursorAfter(first.Events[^1]), first.Next);
    }

    [Fact]
    public async Task The_oldest_events_beyond_the_bound_and_those_past_the_retention_are_pruned()
    {
        var catalog = await OpenAsync();
        var expired = Line(0) with { Delivery = "expired", AcceptedAt = DateTimeOffset.UtcNow - TimeSpan.FromDays(5) };
        await catalog.RecordEventsAsync([expired]);
        const int Written = EventQueryFilter.Kept + 600;
        foreach (var batch in Enumerable.Range(1, Written).Chunk(100))
        {
            await catalog.RecordEventsAsync([.. batch.Select(n => Line(n))]);
        }

        async Task<bool> Kept(string delivery) =>
            (await catalog.ListEventsAsync(new EventQuery(null, null, delivery, 1, null))).Events.Count == 1;

        Assert.False(await Kept("expired"));
        Assert.False(await Kept("delivery-000001"));
        Assert.False(await Kept("delivery-000500"));
        Assert.True(await Kept("delivery-000601"));
        Assert.True(await Kept($"delivery-{Written:D6}"));
    }
}
