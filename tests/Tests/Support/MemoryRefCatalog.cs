using System.Collections.Concurrent;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Storage;

namespace CiTrigger.Tests.Support;

/// <summary>
/// The ref catalog in memory: keeps every summary written and every delivery recorded, notes each write
/// in a <see cref="Journal"/> it may share with other fakes, and can be made to fail or to hold a write.
/// It passes the same contract tests as the real backends (<c>CatalogContract</c>), its event lines pruned as theirs are.
/// </summary>
public sealed class MemoryRefCatalog(Journal? journal = null) : IRefCatalog
{
    private readonly ConcurrentQueue<RefSummary> summaries = new();
    private int linesSincePrune;

    public Journal Journal { get; } = journal ?? new Journal();

    public ConcurrentDictionary<string, string> Deliveries { get; } = new(StringComparer.Ordinal);

    /// <summary>Every summary written, in order.</summary>
    public IReadOnlyList<RefSummary> Summaries => [.. summaries];

    public Func<string, bool> FailDelivery { get; set; } = _ => false;

    /// <summary>Runs before a summary is stored; a test can make the write wait or fail here.</summary>
    public Func<RefSummary, Task> BeforeRecordRef { get; set; } = _ => Task.CompletedTask;

    public async Task RecordRefAsync(RefSummary summary)
    {
        await BeforeRecordRef(summary);
        summaries.Enqueue(summary);
        Journal.Add($"summary {summary.Key}");
    }

    public async Task RecordAsync(RefSummary summary, IReadOnlyList<EventSummary> events)
    {
        await RecordRefAsync(summary);
        if (events.Count > 0)
        {
            await RecordEventsAsync(events);
        }
    }

    public async Task RecordDeliveryAsync(string delivery, string key, DateTimeOffset at)
    {
        await Task.Yield();
        if (FailDelivery(delivery))
        {
            throw new IOException($"injected: cannot record delivery {delivery}");
        }

        Deliveries[delivery] = key;
        Journal.Add($"delivery {delivery}");
    }

    public ConcurrentDictionary<string, string> Manifests { get; } = new(StringComparer.Ordinal);

    public Task ForgetDeliveryAsync(string delivery)
    {
        Deliveries.TryRemove(delivery, out _);
        Journal.Add($"forget {delivery}");
        return Task.CompletedTask;
    }

    public Task RecordManifestAsync(string delivery, string manifest)
    {
        Manifests[delivery] = manifest;
        return Task.CompletedTask;
    }

    public Task<string?> FindManifestAsync(string delivery) => Task.FromResult(Manifests.TryGetValue(delivery, out var text) ? text : null);

    public Task<RefPage> ListAsync(RefQuery query) =>
        Task.FromResult(RefQueryFilter.Page(summaries.GroupBy(s => s.Key).Select(g => g.Last()).OrderBy(s => s.Key, StringComparer.Ordinal), query));

    public Task<string?> FindDeliveryAsync(string delivery) => Task.FromResult(Deliveries.TryGetValue(delivery, out var key) ? key : null);

    /// <summary>The latest line of each event written, by delivery.</summary>
    public ConcurrentDictionary<string, EventSummary> Events { get; } = new(StringComparer.Ordinal);

    /// <summary>Runs before event lines are stored; a test can make the write fail here.</summary>
    public Func<IReadOnlyList<EventSummary>, Task> BeforeRecordEvents { get; set; } = _ => Task.CompletedTask;

    public async Task RecordEventsAsync(IReadOnlyList<EventSummary> events)
    {
        await BeforeRecordEvents(events);
        foreach (var line in events)
        {
            Events[line.Delivery] = line;
            Journal.Add($"event {line.Delivery} {line.State}");
        }

        if (Interlocked.Add(ref linesSincePrune, events.Count) >= EventQueryFilter.LinesPerPrune)
        {
            Interlocked.Exchange(ref linesSincePrune, 0);
            PruneEvents();
        }
    }

    /// <summary>As the real catalogs prune: lines older than the delivery retention, and the oldest beyond the bound.</summary>
    private void PruneEvents()
    {
        var cutoff = TimeProvider.System.GetUtcNow() - new DeliveryIndexOptions().DedupeRetention;
        var pruned = NewestFirst(Events.Values).Skip(EventQueryFilter.Kept).Concat(Events.Values.Where(e => e.AcceptedAt < cutoff)).ToList();
        foreach (var line in pruned)
        {
            Events.TryRemove(line.Delivery, out _);
        }
    }

    public Task<EventPage> ListEventsAsync(EventQuery query) => Task.FromResult(EventQueryFilter.Page(NewestFirst(Events.Values), query));

    private static IEnumerable<EventSummary> NewestFirst(IEnumerable<EventSummary> lines) =>
        lines.OrderByDescending(e => e.AcceptedAt).ThenByDescending(e => e.Delivery, StringComparer.Ordinal);

    /// <summary>The unfinished runs recorded and not forgotten, by delivery.</summary>
    public ConcurrentDictionary<string, RunningRun> Running { get; } = new(StringComparer.Ordinal);

    public Task RecordRunningAsync(string delivery, string key, DateTimeOffset startedAt)
    {
        Running.TryAdd(delivery, new RunningRun(delivery, key, startedAt));
        Journal.Add($"running {delivery}");
        return Task.CompletedTask;
    }

    public Task ForgetRunningAsync(string delivery)
    {
        Running.TryRemove(delivery, out _);
        Journal.Add($"finished {delivery}");
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<RunningRun>> ListRunningAsync() =>
        Task.FromResult<IReadOnlyList<RunningRun>>([.. Running.Values.OrderBy(r => r.Delivery, StringComparer.Ordinal)]);

    public Task<bool> PingAsync(CancellationToken cancellationToken) => Task.FromResult(true);
}
