using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Pipeline;
using CiTrigger.Grains.Storage;
using CiTrigger.Grains.Telemetry;
using Microsoft.Extensions.Logging;
using Orleans.Storage;

namespace CiTrigger.Grains.Processing;

/// <summary>
/// Where one ref's state is kept: its queue's index and its history as whole states, its queue's chunks in
/// <see cref="Storage"/> under the ref's grain id.
/// </summary>
public sealed record RefStores(IStateSlot<RefQueueIndex> QueueIndex, IStateSlot<RefHistoryState> History, IGrainStorage Storage, GrainId Grain)
{
    public const string QueueIndexName = "queue";

    /// <summary>The history was first stored as "log"; the name stays so existing state remains readable.</summary>
    public const string HistoryName = "log";
}

/// <summary>
/// What the parts of every ref use and a silo holds once: one instance from the container
/// (<see cref="ProcessingServiceCollectionExtensions.AddRefProcessing"/>), handed to <see cref="RefParts.Build"/>.
/// </summary>
public sealed record RefServices(
    IRefCatalog Catalog,
    RetryPolicy Retry,
    TriggerMetrics Metrics,
    IResultReporter Statuses,
    IRunControl RunControl,
    QueueOptions QueueOptions,
    RunOptions RunOptions,
    TimeProvider Time)
{
    /// <summary>Pipeline mode (no <c>Handler:ManifestPath</c>): an event's checks are its pipelines', named when it is processed.</summary>
    public bool PipelineMode { get; init; }

    /// <summary>Deletes a ref's finished run objects beyond its repository's <c>keepRuns</c>; nothing without a cluster.</summary>
    public IRunPruner Pruner { get; init; } = NoRunPruner.Instance;

    /// <summary>The repositories' own settings (Repository resources); none by default.</summary>
    public IRepositorySettings Repositories { get; init; } = NoRepositorySettings.Instance;

    /// <summary>The repositories' run slots (<c>concurrencyLimit</c>); none to wait for by default.</summary>
    public IRunSlots RunSlots { get; init; } = NoRunSlots.Instance;

    /// <summary>The runs' Git credentials, whose Secrets a ref deletes when they are no longer needed; null: none.</summary>
    public RunCredentials? Credentials { get; init; }
}

/// <summary>
/// The plain classes a ref grain delegates to, built in one place: by the grain over its Orleans state, by the
/// tests over memory storage. Each part is given everything it uses when it is made, in an order that needs
/// no wiring afterwards: the view before the catalog publisher that reads it, the publisher before the runs
/// whose changes it writes, the runs before the events that start them.
/// </summary>
public sealed class RefParts : IDisposable
{
    private RefParts(
        PendingQueue queue, DeliveryIndex deliveries, RefHistory history, RefActivity activity, RefView view,
        SummaryPublisher summary, RefRuns runs, RefEvents events, Reruns reruns)
    {
        (Queue, Deliveries, History, Activity, View) = (queue, deliveries, history, activity, view);
        (Summary, Runs, Events, Reruns) = (summary, runs, events, reruns);
    }

    public PendingQueue Queue { get; }

    public DeliveryIndex Deliveries { get; }

    public RefHistory History { get; }

    public RefActivity Activity { get; }

    public RefView View { get; }

    public SummaryPublisher Summary { get; }

    public RefRuns Runs { get; }

    public RefEvents Events { get; }

    public Reruns Reruns { get; }

    public static RefParts Build(string key, RefStores stores, RefServices services, ILogger logger)
    {
        var (catalog, retry, metrics, statuses, time) = (services.Catalog, services.Retry, services.Metrics, services.Statuses, services.Time);
        var queue = new PendingQueue(stores.QueueIndex, stores.Storage, stores.Grain);
        var deliveries = new DeliveryIndex(catalog, key, logger);
        var history = new RefHistory(stores.History, stores.Storage, stores.Grain, deliveries, services.QueueOptions.HistorySize);
        var activity = new RefActivity();
        var view = new RefView(key, queue, history, activity, time);
        var summary = new SummaryPublisher(catalog, view.Summarize, view.Describe, services.QueueOptions.CatalogDelay, time, logger);
        var runs = new RefRuns(key, history, queue, summary, catalog, services.RunControl, retry, statuses, metrics, services.RunOptions, time, logger,
            services.Pruner, services.Repositories)
        {
            Slots = services.RunSlots,
            Credentials = services.Credentials,
        };
        var events = new RefEvents(queue, history, deliveries, runs, activity, retry, metrics, statuses, time) { PipelineMode = services.PipelineMode, Repositories = services.Repositories, Slots = services.RunSlots };
        var reruns = new Reruns(events, deliveries, services.QueueOptions.MaxQueueLength, logger);
        return new RefParts(queue, deliveries, history, activity, view, summary, runs, events, reruns);
    }

    public void Dispose()
    {
        Queue.Dispose();
        History.Dispose();
    }
}
