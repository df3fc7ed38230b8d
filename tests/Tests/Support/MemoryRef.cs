using System.Diagnostics.Metrics;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Pipeline;
using CiTrigger.Grains.Processing;
using CiTrigger.Grains.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace CiTrigger.Tests.Support;

/// <summary>
/// The ref <see cref="HookEvents.Key"/> over memory stores that outlive its activations: <see cref="OpenAsync"/>
/// builds its parts as the ref grain does (<see cref="RefParts.Build"/>) and loads them, so opening it again is
/// the ref's next activation. Every part opened is disposed with it.
/// </summary>
public sealed class MemoryRef : IDisposable
{
    public static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    private static readonly GrainId Grain = GrainId.Create("ref", HookEvents.Key);

    private readonly ServiceProvider meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly List<RefParts> opened = [];

    public MemoryRef()
        : this(new MemoryGrainStorage(), new MemoryRefCatalog())
    {
    }

    /// <param name="storage">The grain storage, shared with other activations of the ref a test opens.</param>
    /// <param name="catalog">The catalog, likewise.</param>
    public MemoryRef(MemoryGrainStorage storage, MemoryRefCatalog catalog) => (Storage, Catalog) = (storage, catalog);

    public MemoryGrainStorage Storage { get; }

    public MemoryRefCatalog Catalog { get; }

    public RecordingStatuses Statuses { get; } = new();

    public FakeTimeProvider Time { get; } = new(Now);

    /// <summary>The history's records as stored, in the order they were written: what the ref's next activation reads.</summary>
    public IReadOnlyList<HistoryEntry> StoredHistory =>
        [.. Storage.Records.Where(r => r.Key.StartsWith(RefStores.HistoryName + ".", StringComparison.Ordinal))
            .OrderBy(r => long.Parse(r.Key[(RefStores.HistoryName.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture))
            .Select(r => ((RefHistoryRecord)r.Value.State).Entry!)];

    /// <summary>
    /// What the parts use: this ref's catalog, statuses and clock, and the test's retry policy (by default 5 attempts
    /// 1 s to 1 min apart), cluster (by default none followed) and options (by default the service's).
    /// </summary>
    public RefServices Services(RetryPolicy? retry = null, IRunControl? runControl = null, QueueOptions? queue = null, RunOptions? runs = null) =>
        new(Catalog, retry ?? new RetryPolicy(5, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1), new Random(7)),
            new TriggerMetrics(meters.GetRequiredService<IMeterFactory>()), Statuses, runControl ?? new NoRunControl(),
            queue ?? new QueueOptions(), runs ?? new RunOptions(), Time);

    /// <summary>A new activation of the ref: its parts built over the stores and loaded.</summary>
    public async Task<RefParts> OpenAsync(RefServices services)
    {
        var stores = new RefStores(
            new MemorySlot<RefQueueIndex>(Storage, RefStores.QueueIndexName, Grain),
            new MemorySlot<RefHistoryState>(Storage, RefStores.HistoryName, Grain),
            Storage,
            Grain);
        var parts = RefParts.Build(HookEvents.Key, stores, services, NullLogger.Instance);
        opened.Add(parts);
        await parts.Events.LoadAsync();
        return parts;
    }

    public void Dispose()
    {
        foreach (var parts in opened)
        {
            parts.Dispose();
        }

        meters.Dispose();
    }
}
