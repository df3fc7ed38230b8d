using System.Collections.Immutable;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Pipeline;
using CiTrigger.Grains.Storage;
using CiTrigger.Grains.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Placement;
using Orleans.Storage;

namespace CiTrigger.Grains.Processing;

/// <summary>
/// The single activation that owns one ref's events. <see cref="Enqueue"/> persists and returns; a
/// one-shot grain timer (interleaving, so calls are never stuck behind a slow apply) drains the queue
/// one event at a time. A reminder is held from the first pending event on, so a silo's death or a
/// restart cannot strand acknowledged work. Placed on the silo that received the webhook, which saves
/// the accept path a network hop. The reminder stays while runs are followed (<see cref="RefRuns"/>), so
/// their timeout is enforced and a new silo picks them up. The work itself lives in plain classes: <see cref="PendingQueue"/>,
/// <see cref="RefHistory"/>, <see cref="AttemptRunner"/>, <see cref="RetryPolicy"/>, <see cref="SummaryPublisher"/>, <see cref="DrainLoop"/>.
/// </summary>
[PreferLocalPlacement]
public sealed partial class RefGrain : Grain, IRefGrain, IRemindable, IDisposable
{
    public const string ReminderName = PendingWorkReminder.Name;

    // The history was first stored as "log"; the name stays so existing state remains readable.
    private const string HistoryStateName = "log";

    private readonly RefEvents events;
    private readonly Reruns reruns;
    private readonly RefRuns runs;
    private readonly SummaryPublisher summary;
    private readonly DrainLoop drain;
    private readonly PendingWorkReminder reminder;
    private readonly QueueOptions options;
    private readonly ILogger<RefGrain> logger;
    private readonly CancellationTokenSource deactivating = new();

    public RefGrain(
        [PersistentState("queue", StorageNames.Refs)] IPersistentState<RefQueueIndex> queueIndex,
        [PersistentState(HistoryStateName, StorageNames.Refs)] IPersistentState<RefHistoryState> historyState,
        [FromKeyedServices(StorageNames.Refs)] IGrainStorage storage,
        IRefCatalog catalog,
        AttemptRunner attempts,
        RetryPolicy retry,
        TriggerMetrics metrics,
        ICommitStatusReporter statuses,
        IRunControl runControl,
        IOptions<RunOptions> runOptions,
        IOptions<QueueOptions> options,
        TimeProvider time,
        ILogger<RefGrain> logger)
    {
        var queue = new PendingQueue(new PersistentSlot<RefQueueIndex>(queueIndex), storage, this.GetGrainId());
        var deliveries = new DeliveryIndex(catalog, Key, logger);
        var history = new RefHistory(new PersistentSlot<RefHistoryState>(historyState), deliveries, options.Value.HistorySize);
        runs = new RefRuns(Key, history, catalog, runControl, retry, statuses, metrics, runOptions.Value, time, logger);
        events = new RefEvents(queue, history, deliveries, retry, metrics, statuses, time, runs);
        reruns = new Reruns(events, deliveries, options.Value.MaxQueueLength, logger);
        summary = new SummaryPublisher(catalog, Summarize, deliveries => events.Describe(Key, deliveries), options.Value.CatalogDelay, time, logger);
        runs.Changed = delivery => summary.Publish(delivery);
        runs.IsQueued = events.IsQueued;
        reminder = new PendingWorkReminder(this, options.Value.ReminderPeriod, logger);
        drain = new DrainLoop(Key, events, attempts, summary, () => Paused,
            () => GrainFactory.GetGrain<IRepositoryGrain>(RefKey.Split(Key).Repository).IsPaused(),
            options.Value.ReorderWindow, retry.BaseDelay, time, logger);
        this.options = options.Value;
        this.logger = logger;
    }

    private string Key => this.GetPrimaryKeyString();

    private bool HasWork => !events.Pending.IsEmpty || runs.HasUnfinished;

    private bool Paused => events.Paused || drain.RepositoryPaused == true;

    public void Dispose()
    {
        deactivating.Dispose();
        events.Dispose();
    }

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        drain.Attach(this.RegisterGrainTimer(_ => drain.RunAsync(deactivating.Token), new GrainTimerCreationOptions
        {
            DueTime = Timeout.InfiniteTimeSpan,
            Period = Timeout.InfiniteTimeSpan,
            Interleave = true,
            KeepAlive = true,
        }));
        await events.LoadAsync();
        if (HasWork)
        {
            await reminder.EnsureAsync();
            await runs.TimeOutAsync();
            runs.ResumeStops();
            drain.Request(TimeSpan.Zero);
        }
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        await deactivating.CancelAsync();
        events.Unload();
        if (!HasWork && reminder.Held)
        {
            await reminder.TryDropAsync();
        }
    }

    public async Task<EnqueueResult> Enqueue(HookEvent hookEvent)
    {
        using var scope = logger.BeginScope(EventScope.Of(hookEvent));
        if (await events.RefusalAsync(hookEvent.Delivery, options.MaxQueueLength) is { } refusal)
        {
            if (refusal == EnqueueStatus.Full)
            {
                Log.QueueFull(logger, Key, hookEvent.Delivery, events.Pending.Count);
            }

            return new EnqueueResult(refusal, events.Pending.Count);
        }

        // The reminder comes first: should the state write fail after it, a stray reminder only wakes an
        // empty queue, while the other order could leave stored work that nothing wakes.
        await reminder.EnsureAsync();
        try
        {
            await events.AddAsync(hookEvent);
        }
        catch (Exception e)
        {
            Log.EnqueueFailed(logger, e, Key, hookEvent.Delivery);

            // What the store holds is unknown now (a write can fail after it landed): read it afresh.
            this.DeactivateOnIdle();
            throw;
        }

        Log.Queued(logger, hookEvent.Delivery, hookEvent.Repository, hookEvent.Ref, hookEvent.Revision, events.Pending.Count);
        drain.Request(TimeSpan.Zero);
        summary.Publish(hookEvent.Delivery);
        return new EnqueueResult(EnqueueStatus.Queued, events.Pending.Count);
    }

    public async Task<RerunResult> Rerun(RerunRequest request)
    {
        try
        {
            var result = await reruns.RunAsync(request, reminder.EnsureAsync);
            if (result.Status == RerunStatus.Queued)
            {
                drain.Request(TimeSpan.Zero);
                summary.Publish(result.Delivery);
            }

            return result;
        }
        catch (Exception e)
        {
            Log.EnqueueFailed(logger, e, Key, request.Delivery ?? request.Revision);
            this.DeactivateOnIdle();
            throw;
        }
    }

    public Task<RefSnapshot> GetSnapshot() => Task.FromResult(events.Snapshot(Key, drain.RepositoryPaused == true));

    public Task<DeliveryRecord?> GetDelivery(string delivery) => Task.FromResult(events.Find(Key, delivery));

    public async Task<AdminResult> RetryHead() => Drained(await events.RetryHeadAsync());

    public async Task<AdminResult> SkipHead() => Drained(await events.SkipHeadAsync());

    public async Task<AdminResult> SetPaused(bool paused)
    {
        var result = await events.SetPausedAsync(paused);
        return paused ? Summarized(result) : Drained(result);
    }

    public Task SetRepositoryPaused(bool paused)
    {
        drain.RepositoryPaused = paused;
        if (!paused)
        {
            drain.Request(TimeSpan.Zero);
        }

        summary.Publish();
        return Task.CompletedTask;
    }

    public Task Wake()
    {
        drain.Request(TimeSpan.Zero);
        return Task.CompletedTask;
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (!HasWork)
        {
            await reminder.TryDropAsync();
            return;
        }

        await runs.TimeOutAsync();
        runs.ResumeStops();
        drain.Request(TimeSpan.Zero);
    }

    public Task RunChanged(RunObjectState state) => runs.ChangedAsync(state);

    public Task RunsListed(RunListScope scope, ImmutableArray<string> deliveries, ImmutableList<RunObjectState> objects) =>
        runs.ListedAsync(scope, deliveries, objects);

    /// <summary>After an admin action: the ref looks at its queue again and publishes its state.</summary>
    private AdminResult Drained(AdminResult result)
    {
        drain.Request(TimeSpan.Zero);
        return Summarized(result);
    }

    private AdminResult Summarized(AdminResult result)
    {
        summary.Publish(result.Delivery);
        return result;
    }

    private RefSummary Summarize() => events.Summarize(Key, Paused);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "Queued {Delivery} for {Repository} {Ref} at {Revision}; {QueueLength} pending")]
        public static partial void Queued(ILogger logger, string delivery, string repository, string @ref, string revision, int queueLength);

        [LoggerMessage(2, LogLevel.Warning, "Could not store an event for {Key} (delivery {Delivery}); nothing was acknowledged")]
        public static partial void EnqueueFailed(ILogger logger, Exception error, string key, string delivery);

        [LoggerMessage(9, LogLevel.Warning, "The queue of {Key} is full ({QueueLength} pending); delivery {Delivery} was not accepted")]
        public static partial void QueueFull(ILogger logger, string key, string delivery, int queueLength);
    }
}
