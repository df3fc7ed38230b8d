using System.Collections.Immutable;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Placement;
using Orleans.Storage;

namespace CiTrigger.Grains.Processing;

/// <summary>
/// The single activation that owns one ref's events. <see cref="Enqueue"/> persists and returns; a
/// one-shot grain timer (interleaving, so calls are never stuck behind a slow apply) drains the queue
/// one event at a time. A reminder is held from the first pending event on, so a silo's death or a
/// restart cannot strand acknowledged work. Placed on the silo that received the webhook, which saves
/// the accept path a network hop. The reminder stays while runs are followed (<see cref="RefRuns"/>), so
/// their timeout is enforced and a new silo picks them up. The work itself lives in plain classes: the ref's
/// parts (<see cref="RefParts"/>: queue, history, events, runs, re-runs, catalog publisher), the
/// <see cref="AttemptRunner"/> and the <see cref="DrainLoop"/>.
/// </summary>
[PreferLocalPlacement]
public sealed partial class RefGrain : Grain, IRefGrain, IRemindable, IDisposable
{
    public const string ReminderName = PendingWorkReminder.Name;

    private readonly RefParts parts;
    private readonly DrainLoop drain;
    private readonly PendingWorkReminder reminder;
    private readonly QueueOptions options;
    private readonly ILogger<RefGrain> logger;
    private readonly CancellationTokenSource deactivating = new();

    public RefGrain(
        [PersistentState(RefStores.QueueIndexName, StorageNames.Refs)] IPersistentState<RefQueueIndex> queueIndex,
        [PersistentState(RefStores.HistoryName, StorageNames.Refs)] IPersistentState<RefHistoryState> history,
        [FromKeyedServices(StorageNames.Refs)] IGrainStorage storage,
        RefServices services,
        AttemptRunner attempts,
        ILogger<RefGrain> logger)
    {
        // Any write of the ref's state that finds a newer version stored ends this activation (see ConflictNoticingStorage).
        var conflicted = () =>
        {
            Log.StoreAhead(logger, Key);
            this.DeactivateOnIdle();
        };
        var stores = new RefStores(new PersistentSlot<RefQueueIndex>(queueIndex, conflicted), new PersistentSlot<RefHistoryState>(history, conflicted),
            new ConflictNoticingStorage(storage, conflicted), this.GetGrainId());
        parts = RefParts.Build(Key, stores, services, logger);
        options = services.QueueOptions;
        reminder = new PendingWorkReminder(this, options.ReminderPeriod, logger);
        drain = new DrainLoop(Key, parts.Events, parts.Activity, parts.View, attempts, parts.Summary,
            () => GrainFactory.GetGrain<IRepositoryGrain>(RefKey.Split(Key).Repository).IsPaused(),
            options.ReorderWindow, services.Retry.BaseDelay, services.Time, logger);
        this.logger = logger;
    }

    private string Key => this.GetPrimaryKeyString();

    private RefEvents Events => parts.Events;

    private RefRuns Runs => parts.Runs;

    private SummaryPublisher Summary => parts.Summary;

    private bool HasWork => !Events.Pending.IsEmpty || Runs.HasUnfinished;

    public void Dispose()
    {
        deactivating.Dispose();
        parts.Dispose();
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
        await Events.LoadAsync();
        if (HasWork)
        {
            await reminder.EnsureAsync();
            await Runs.TimeOutAsync();
            Runs.ResumeStops();
            drain.Request(TimeSpan.Zero);
        }
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        await deactivating.CancelAsync();
        Events.Unload();
        if (!HasWork && reminder.Held)
        {
            await reminder.TryDropAsync();
        }

        // The ref's last catalog line is written before the activation goes (within the time Orleans gives it),
        // so it cannot land after a line the ref's next activation, perhaps on another silo, has written.
        try
        {
            await Summary.Idle.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            Log.SummaryLeft(logger, Key);
        }
    }

    public async Task<EnqueueResult> Enqueue(HookEvent hookEvent)
    {
        using var scope = logger.BeginScope(EventScope.Of(hookEvent));
        if (await Events.RefusalAsync(hookEvent.Delivery, options.MaxQueueLength) is { } refusal)
        {
            if (refusal == EnqueueStatus.Full)
            {
                Log.QueueFull(logger, Key, hookEvent.Delivery, Events.Pending.Count);
            }

            return new EnqueueResult(refusal, Events.Pending.Count);
        }

        // The reminder comes first: should the state write fail after it, a stray reminder only wakes an
        // empty queue, while the other order could leave stored work that nothing wakes.
        await reminder.EnsureAsync();
        try
        {
            await Events.AddAsync(hookEvent);
        }
        catch (Exception e)
        {
            Log.EnqueueFailed(logger, e, Key, hookEvent.Delivery);

            // What the store holds is unknown now (a write can fail after it landed): read it afresh.
            this.DeactivateOnIdle();
            throw;
        }

        Log.Queued(logger, hookEvent.Delivery, hookEvent.Repository, hookEvent.Ref, hookEvent.Revision, Events.Pending.Count);
        drain.Request(TimeSpan.Zero);
        Summary.Publish(hookEvent.Delivery);
        return new EnqueueResult(EnqueueStatus.Queued, Events.Pending.Count);
    }

    public async Task<RerunResult> Rerun(RerunRequest request)
    {
        try
        {
            var result = await parts.Reruns.RunAsync(request, reminder.EnsureAsync);
            if (result.Status == RerunStatus.Queued)
            {
                drain.Request(TimeSpan.Zero);
                Summary.Publish(result.Delivery);
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

    public Task<RefSnapshot> GetSnapshot() => Task.FromResult(parts.View.Snapshot());

    public Task<DeliveryRecord?> GetDelivery(string delivery) => Task.FromResult(parts.View.Find(delivery));

    public async Task<AdminResult> RetryHead() => Drained(await Events.RetryHeadAsync());

    public async Task<AdminResult> SkipHead() => Drained(await Events.SkipHeadAsync());

    public async Task<AdminResult> SetPaused(bool paused)
    {
        var result = await Events.SetPausedAsync(paused);
        return paused ? Summarized(result) : Drained(result);
    }

    public Task SetRepositoryPaused(bool paused)
    {
        parts.Activity.RepositoryPaused = paused;
        if (!paused)
        {
            drain.Request(TimeSpan.Zero);
        }

        Summary.Publish();
        return Task.CompletedTask;
    }

    public Task Wake()
    {
        parts.Activity.SlotWaitUntil = null;
        parts.Activity.Wakes++;
        drain.Request(TimeSpan.Zero);
        return Task.CompletedTask;
    }

    public Task<bool> HoldsRun(string delivery) => Task.FromResult(Runs.HoldsRun(delivery));

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (!HasWork)
        {
            await reminder.TryDropAsync();
            return;
        }

        await Runs.TimeOutAsync();
        Runs.ResumeStops();
        drain.Request(TimeSpan.Zero);
    }

    public Task RunChanged(RunObjectState state) => Runs.ChangedAsync(state);

    public Task RunsListed(RunListScope scope, ImmutableArray<string> deliveries, ImmutableList<RunObjectState> objects) =>
        Runs.ListedAsync(scope, deliveries, objects);

    /// <summary>After an admin action: the ref looks at its queue again and publishes its state.</summary>
    private AdminResult Drained(AdminResult result)
    {
        drain.Request(TimeSpan.Zero);
        return Summarized(result);
    }

    private AdminResult Summarized(AdminResult result)
    {
        Summary.Publish(result.Delivery);
        return result;
    }

    private static partial class Log
    {
        [LoggerMessage(14, LogLevel.Warning, "The store holds a newer state of {Key} than this activation (a write that failed had landed, or another activation wrote); the activation goes and the next one reads it")]
        public static partial void StoreAhead(ILogger logger, string key);

        [LoggerMessage(1, LogLevel.Debug, "Queued {Delivery} for {Repository} {Ref} at {Revision}; {QueueLength} pending")]
        public static partial void Queued(ILogger logger, string delivery, string repository, string @ref, string revision, int queueLength);

        [LoggerMessage(2, LogLevel.Warning, "Could not store an event for {Key} (delivery {Delivery}); nothing was acknowledged")]
        public static partial void EnqueueFailed(ILogger logger, Exception error, string key, string delivery);

        [LoggerMessage(13, LogLevel.Warning, "{Key} was deactivated before its catalog line was written; the catalog may show an older state of it until the ref changes again")]
        public static partial void SummaryLeft(ILogger logger, string key);

        [LoggerMessage(9, LogLevel.Warning, "The queue of {Key} is full ({QueueLength} pending); delivery {Delivery} was not accepted")]
        public static partial void QueueFull(ILogger logger, string key, string delivery, int queueLength);
    }
}
