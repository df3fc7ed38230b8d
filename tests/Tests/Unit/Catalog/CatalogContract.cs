using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Storage;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.Unit.Catalog;

/// <summary>
/// What every <see cref="IRefCatalog"/> does, written once: each backend is a subclass that says how to open
/// its store (<see cref="SqliteCatalogTests"/>, <see cref="RedisCatalogTests"/>, and <see cref="MemoryCatalogTests"/>
/// for the fake the grain tests use, which must agree with the real ones). A new backend is one more subclass.
/// </summary>
public abstract partial class CatalogContract : IAsyncLifetime
{
    /// <summary>Whole milliseconds, as every store keeps times; recent, so no retention prunes what a test writes.</summary>
    private static readonly DateTimeOffset Start = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.AddHours(-1).ToUnixTimeMilliseconds());

    /// <summary>
    /// A catalog over this test's own store, empty at first; every later call opens the same store again, as a
    /// restarted silo would (a backend without a store of its own may hand back the same catalog).
    /// </summary>
    protected abstract Task<IRefCatalog> OpenAsync();

    public virtual ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public abstract ValueTask DisposeAsync();

    private static EventSummary Line(int n, string repository = "octo/app", string gitRef = "refs/heads/main", string state = EventStates.Queued, string? error = null) =>
        new($"delivery-{n:D6}", RefKey.For(ForgeNames.GitHub, repository, gitRef), repository, gitRef, "push", "", Payloads.Sha(n), state,
            Start.AddMilliseconds(n), null, 0, error, null, Start, null);

    private static RefSummary Summary(string repository, string gitRef, string state, int queue = 0) =>
        new(RefKey.For(ForgeNames.GitHub, repository, gitRef), repository, gitRef, queue, false, state, null, null, null, Start);

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

    private static int Number(EventSummary line) => int.Parse(line.Delivery["delivery-".Length..], System.Globalization.CultureInfo.InvariantCulture);
}
