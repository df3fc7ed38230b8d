using System.Collections.Immutable;
using System.Diagnostics;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.GitHub;
using CiTrigger.Grains.Storage;
using CiTrigger.Grains.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Storage;
using Orleans.Placement;

namespace CiTrigger.Grains.Processing;

/// <summary>
/// The single activation that owns one ref's events. <see cref="Enqueue"/> persists and returns; a
/// one-shot grain timer (interleaving, so calls are never stuck behind a slow apply) drains the queue
/// one event at a time. A reminder is held from the first pending event on, so a silo's death or a
/// restart cannot strand acknowledged work. Placed on the silo that received the webhook, which saves
/// the accept path a network hop.
/// </summary>
[PreferLocalPlacement]
public sealed partial class RefGrain : Grain, IRefGrain, IRemindable, IDisposable
{
    public const string StorageName = "refs";
    public const string ReminderName = "pending";
    private static readonly TimeSpan SummaryDelay = TimeSpan.FromMilliseconds(250);

    // A repository resume reaches the refs the catalog lists; one that was too new to be listed finds
    // out by asking again this often while it has work waiting.
    private static readonly TimeSpan RepositoryPauseRecheck = TimeSpan.FromSeconds(3);

    private readonly PendingEventLog queue;
    private readonly CoalescingWriter<RefLogState> log;
    private readonly EventProcessor processor;
    private readonly IRefCatalog catalog;
    private readonly TriggerMetrics metrics;
    private readonly ICommitStatusReporter statuses;
    private readonly HandlerOptions options;
    private readonly IHostApplicationLifetime lifetime;
    private readonly TimeProvider time;
    private readonly ILogger<RefGrain> logger;
    private readonly CancellationTokenSource deactivating = new();

    // Deliveries the history shows as finished (the de-duplication memory beyond it is the catalog's).
    private readonly HashSet<string> finished = new(StringComparer.Ordinal);

    // The catalog writes of deliveries this activation queued; awaited before an event is finished, so
    // no event leaves the queue before its id is durably remembered.
    private readonly Dictionary<string, Task<bool>> deliveryRecords = new(StringComparer.Ordinal);

    // Deliveries queued by this activation and not attempted yet: nothing can have applied them anywhere,
    // so their first attempt skips looking for objects an earlier attempt might have created.
    private readonly HashSet<string> untried = new(StringComparer.Ordinal);

    private IGrainTimer? drainTimer;
    private IGrainReminder? reminder;
    private bool draining;
    private bool? repositoryPaused;
    private string? inFlight;
    private bool summaryDirty;
    private Task summaryPublisher = Task.CompletedTask;

    public RefGrain(
        [PersistentState("queue", StorageName)] IPersistentState<RefQueueIndex> queueIndex,
        [PersistentState("log", StorageName)] IPersistentState<RefLogState> logState,
        [FromKeyedServices(StorageName)] IGrainStorage storage,
        EventProcessor processor,
        IRefCatalog catalog,
        TriggerMetrics metrics,
        ICommitStatusReporter statuses,
        IOptions<HandlerOptions> options,
        IHostApplicationLifetime lifetime,
        TimeProvider time,
        ILogger<RefGrain> logger)
    {
        queue = new PendingEventLog(new PersistentSlot<RefQueueIndex>(queueIndex), storage, this.GetGrainId());
        log = new CoalescingWriter<RefLogState>(new PersistentSlot<RefLogState>(logState));
        this.processor = processor;
        this.catalog = catalog;
        this.metrics = metrics;
        this.statuses = statuses;
        this.options = options.Value;
        this.lifetime = lifetime;
        this.time = time;
        this.logger = logger;
    }

    private string Key => this.GetPrimaryKeyString();

    private bool Paused => queue.Paused || repositoryPaused == true;

    public void Dispose()
    {
        deactivating.Dispose();
        queue.Dispose();
        log.Dispose();
    }

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        drainTimer = this.RegisterGrainTimer(DrainAsync, new GrainTimerCreationOptions
        {
            DueTime = Timeout.InfiniteTimeSpan,
            Period = Timeout.InfiniteTimeSpan,
            Interleave = true,
            KeepAlive = true,
        });
        await queue.LoadAsync();
        finished.UnionWith(log.State.History.Select(h => h.Event.Delivery));
        metrics.QueueDepthChanged(queue.Pending.Count);
        if (!queue.Pending.IsEmpty)
        {
            await EnsureReminderAsync();
            RequestDrain(TimeSpan.Zero);
        }
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        await deactivating.CancelAsync();
        metrics.QueueDepthChanged(-queue.Pending.Count);
        if (queue.Pending.IsEmpty && reminder is not null)
        {
            await TryUnregisterReminderAsync();
        }
    }

    public async Task<EnqueueResult> Enqueue(HookEvent hookEvent)
    {
        using var scope = logger.BeginScope(EventScope.Of(hookEvent));
        if (finished.Contains(hookEvent.Delivery) || queue.Contains(hookEvent.Delivery)
            || await catalog.FindDeliveryAsync(hookEvent.Delivery) is not null)
        {
            return new EnqueueResult(EnqueueStatus.Duplicate, queue.Pending.Count);
        }

        if (queue.Pending.Count >= options.MaxQueueLength)
        {
            Log.QueueFull(logger, Key, hookEvent.Delivery, queue.Pending.Count);
            return new EnqueueResult(EnqueueStatus.Full, queue.Pending.Count);
        }

        // The reminder comes first: should the state write fail after it, a stray reminder only wakes an
        // empty queue, while the other order could leave stored work that nothing wakes.
        await EnsureReminderAsync();
        var entry = new PendingEvent(hookEvent, time.GetUtcNow());
        try
        {
            await queue.AddAsync(entry);
        }
        catch (Exception e)
        {
            Log.EnqueueFailed(logger, e, Key, hookEvent.Delivery);

            // What the store holds is unknown now (a write can fail after it landed): read it afresh.
            this.DeactivateOnIdle();
            throw;
        }

        untried.Add(hookEvent.Delivery);
        metrics.QueueDepthChanged(1);
        Log.Queued(logger, hookEvent.Delivery, hookEvent.Repository, hookEvent.Ref, hookEvent.Revision, queue.Pending.Count);
        deliveryRecords[hookEvent.Delivery] = RecordDeliveryAsync(hookEvent);
        statuses.Report(hookEvent, StatusState.Pending, "queued");
        RequestDrain(TimeSpan.Zero);
        PublishSummary();
        return new EnqueueResult(EnqueueStatus.Queued, queue.Pending.Count);
    }

    public Task<RefSnapshot> GetSnapshot()
    {
        var (repository, gitRef) = RefKey.Split(Key);
        return Task.FromResult(new RefSnapshot(Key, repository, gitRef, queue.Paused, inFlight,
            queue.Pending, log.State.History, log.State.LastAfter, repositoryPaused == true));
    }

    public Task<DeliveryRecord?> GetDelivery(string delivery)
    {
        if (queue.Pending.Find(p => p.Event.Delivery == delivery) is { } pending)
        {
            var status = delivery == inFlight ? "in-flight" : pending.Attempts.IsEmpty ? "queued" : "retrying";
            return Task.FromResult<DeliveryRecord?>(new DeliveryRecord(Key, status, pending.Event, pending.AcceptedAt, pending.Attempts, null));
        }

        var done = log.State.History.Find(h => h.Event.Delivery == delivery);
        return Task.FromResult(done is null
            ? null
            : new DeliveryRecord(Key, done.Outcome.ToString().ToLowerInvariant(), done.Event, done.AcceptedAt, done.Attempts, done));
    }

    public async Task<AdminResult> RetryHead()
    {
        if (HeadUnavailable() is { } refusal)
        {
            return refusal;
        }

        var head = queue.Pending[0];
        await queue.ReplaceAsync(head with { NotBefore = null });
        RequestDrain(TimeSpan.Zero);
        return new AdminResult(true, "the head of the queue will be attempted now", head.Event.Delivery);
    }

    public async Task<AdminResult> SkipHead()
    {
        if (HeadUnavailable() is { } refusal)
        {
            return refusal;
        }

        var head = queue.Pending[0];
        await CompleteAsync(head, Outcome.Skipped, "skipped by an operator", [], outOfChain: false);
        RequestDrain(TimeSpan.Zero);
        return new AdminResult(true, "the head of the queue was skipped", head.Event.Delivery);
    }

    public async Task<AdminResult> SetPaused(bool paused)
    {
        if (queue.Paused != paused)
        {
            await queue.SetPausedAsync(paused);
            PublishSummary();
        }

        if (!paused)
        {
            RequestDrain(TimeSpan.Zero);
        }

        return new AdminResult(true, paused ? "paused: events are queued but not processed" : "resumed", null);
    }

    public Task SetRepositoryPaused(bool paused)
    {
        repositoryPaused = paused;
        if (!paused)
        {
            RequestDrain(TimeSpan.Zero);
        }

        PublishSummary();
        return Task.CompletedTask;
    }

    public Task Wake()
    {
        RequestDrain(TimeSpan.Zero);
        return Task.CompletedTask;
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (queue.Pending.IsEmpty)
        {
            await TryUnregisterReminderAsync();
            return;
        }

        RequestDrain(TimeSpan.Zero);
    }

    private AdminResult? HeadUnavailable()
    {
        if (queue.Pending.IsEmpty)
        {
            return new AdminResult(false, "the queue is empty", null);
        }

        var head = queue.Pending[0].Event.Delivery;
        return head == inFlight ? new AdminResult(false, "the head of the queue is being processed right now", head) : null;
    }

    private void RequestDrain(TimeSpan delay)
    {
        // A running drain looks at the queue again before it stops, so it will see what was added.
        if (!draining)
        {
            drainTimer?.Change(delay < TimeSpan.Zero ? TimeSpan.Zero : delay, Timeout.InfiniteTimeSpan);
        }
    }

    private async Task DrainAsync(CancellationToken cancellationToken)
    {
        if (draining)
        {
            return;
        }

        draining = true;
        try
        {
            if (repositoryPaused != false)
            {
                repositoryPaused = await GrainFactory.GetGrain<IRepositoryGrain>(RefKey.Split(Key).Repository).IsPaused();
                if (repositoryPaused == true && !queue.Pending.IsEmpty)
                {
                    drainTimer?.Change(RepositoryPauseRecheck, Timeout.InfiniteTimeSpan);
                }
            }

            while (!deactivating.IsCancellationRequested && !Paused && await TakeNextAsync() is { } next)
            {
                var (entry, outOfChain) = next;
                inFlight = entry.Event.Delivery;
                var attempt = await AttemptAsync(entry);
                inFlight = null;
                if (attempt is null)
                {
                    break;
                }

                await RecordAsync(entry, attempt.Value, outOfChain);
            }
        }
        catch (Exception e)
        {
            // The store failed while recording progress; nothing is lost, the same work is looked at again.
            Log.DrainFailed(logger, e, Key);
            draining = false;
            RequestDrain(options.RetryBaseDelay);
        }
        finally
        {
            inFlight = null;
            draining = false;
            PublishSummary();
        }
    }

    /// <summary>The next event to process now, or null after scheduling the drain for when one is due.</summary>
    private async Task<(PendingEvent Entry, bool OutOfChain)?> TakeNextAsync()
    {
        await DropCompletedAsync();
        var now = time.GetUtcNow();
        var next = QueueOrder.Pick(queue.Pending, log.State.LastAfter, now, options.ReorderWindow);
        if (next.Index < 0)
        {
            ScheduleAt(next.WaitUntil, now);
            return null;
        }

        var entry = queue.Pending[next.Index];
        if (entry.NotBefore is { } notBefore && notBefore > now)
        {
            ScheduleAt(notBefore, now);
            return null;
        }

        return (entry, next.OutOfChain);
    }

    private void ScheduleAt(DateTimeOffset? at, DateTimeOffset now)
    {
        if (at is { } due)
        {
            drainTimer?.Change(due - now, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>
    /// Drops events whose completion is already in the log: a crash between the log write and the queue
    /// write leaves them behind, and they must not run twice.
    /// </summary>
    private async Task DropCompletedAsync()
    {
        if (!finished.Any(queue.Contains))
        {
            return;
        }

        await log.FlushAsync();
        metrics.QueueDepthChanged(-await queue.RemoveAsync(finished));
    }

    private readonly record struct Attempt(IReadOnlyList<AppliedObject>? Objects, Exception? Error, AttemptRecord Record);

    /// <summary>One attempt under its own deadline; null when the silo is stopping and the attempt does not count.</summary>
    private async Task<Attempt?> AttemptAsync(PendingEvent entry)
    {
        var e = entry.Event;
        using var scope = logger.BeginScope(EventScope.Of(e));
        using var attemptCts = CancellationTokenSource.CreateLinkedTokenSource(lifetime.ApplicationStopping, deactivating.Token);
        attemptCts.CancelAfter(options.AttemptTimeout);
        var started = time.GetUtcNow();
        var watch = Stopwatch.StartNew();
        try
        {
            var objects = await processor.ProcessAsync(e, mayHaveRun: !untried.Remove(e.Delivery), attemptCts.Token);
            Log.Applied(logger, e.Delivery, e.Repository, e.Ref, e.Revision, objects.Count, watch.ElapsedMilliseconds);
            metrics.Attempted(watch.Elapsed, "applied");
            return new Attempt(objects, null, new AttemptRecord(started, watch.Elapsed, null, false));
        }
        catch (Exception error) when (lifetime.ApplicationStopping.IsCancellationRequested || deactivating.IsCancellationRequested)
        {
            Log.Abandoned(logger, error, e.Delivery);
            return null;
        }
        catch (Exception error)
        {
            var message = attemptCts.IsCancellationRequested
                ? $"the attempt timed out after {options.AttemptTimeout.TotalSeconds:0.#} s"
                : Describe(error);
            var transient = EventProcessor.IsTransient(error);
            metrics.Attempted(watch.Elapsed, transient ? "transient" : "permanent");
            Log.AttemptFailed(logger, e.Delivery, e.Repository, e.Ref, entry.Attempts.Count + 1, transient, message);
            return new Attempt(null, error, new AttemptRecord(started, watch.Elapsed, message, transient));
        }
    }

    private async Task RecordAsync(PendingEvent entry, Attempt attempt, bool outOfChain)
    {
        var attempted = entry with { Attempts = entry.Attempts.Add(attempt.Record) };
        if (attempt.Error is null)
        {
            await CompleteAsync(attempted, Outcome.Applied, null, attempt.Objects!, outOfChain);
            return;
        }

        if (!attempt.Record.Transient || attempted.Attempts.Count >= options.MaxAttempts)
        {
            var error = attempt.Record.Transient
                ? $"gave up after {attempted.Attempts.Count} attempts: {attempt.Record.Error}"
                : attempt.Record.Error;
            await CompleteAsync(attempted, Outcome.Failed, error, [], outOfChain);
            return;
        }

        var delay = Backoff.Delay(attempted.Attempts.Count, options.RetryBaseDelay, options.RetryMaxDelay,
            (attempt.Error as TransientException)?.RetryAfter, Random.Shared);
        var waiting = attempted with { NotBefore = time.GetUtcNow() + delay };
        metrics.Retrying();
        await queue.ReplaceAsync(waiting);
        PublishSummary();
    }

    /// <summary>
    /// Finishes an event: its delivery id durably remembered, then the log (history, chain), then the queue.
    /// </summary>
    private async Task CompleteAsync(PendingEvent entry, Outcome outcome, string? error, IReadOnlyList<AppliedObject> objects, bool outOfChain)
    {
        var now = time.GetUtcNow();
        var e = entry.Event;
        var record = new HistoryEntry(e, outcome, error, entry.AcceptedAt, now, entry.Attempts, [.. objects], outOfChain);
        await RememberDeliveryAsync(e);
        var current = log.State;
        var history = current.History.Insert(0, record).Take(options.HistorySize).ToImmutableList();
        finished.Clear();
        finished.UnionWith(history.Select(h => h.Event.Delivery));
        await log.SaveAsync(current with { History = history, LastAfter = QueueOrder.AdvanceChain(current.LastAfter, e) });
        metrics.QueueDepthChanged(-await queue.RemoveAsync(new HashSet<string>(StringComparer.Ordinal) { e.Delivery }));
        metrics.Finished(outcome.ToString().ToLowerInvariant(), record.EndToEnd);
        ReportOutcome(e, outcome, error, objects);
        PublishSummary();
    }

    private void ReportOutcome(HookEvent e, Outcome outcome, string? error, IReadOnlyList<AppliedObject> objects)
    {
        var first = objects.Count > 0 ? objects[0] : null;
        switch (outcome)
        {
            case Outcome.Applied:
                statuses.Report(e, StatusState.Success, first is null ? "applied" : $"applied {first.Kind} {first.Name}" + (objects.Count > 1 ? $" and {objects.Count - 1} more" : ""), objects);
                break;
            case Outcome.Failed:
                statuses.Report(e, StatusState.Failure, error ?? "failed");
                break;
            default:
                statuses.Report(e, StatusState.Error, error ?? "skipped");
                break;
        }
    }

    private static string Describe(Exception e)
    {
        var message = e.Message.Length <= 1000 ? e.Message : e.Message[..1000] + "…";
        return e is Manifests.ManifestException or TransientException ? message : $"{e.GetType().Name}: {message}";
    }

    private async Task EnsureReminderAsync()
    {
        reminder ??= await this.RegisterOrUpdateReminder(ReminderName, options.ReminderPeriod, options.ReminderPeriod);
    }

    private async Task TryUnregisterReminderAsync()
    {
        try
        {
            var handle = reminder ?? await this.GetReminder(ReminderName);
            reminder = null;
            if (handle is not null)
            {
                await this.UnregisterReminder(handle);
            }
        }
        catch (Exception e)
        {
            // A reminder that outlives its work only wakes an empty queue, which unregisters it again.
            Log.ReminderCleanupFailed(logger, e, Key);
        }
    }

    /// <summary>Records where a delivery went (admin lookups, de-duplication) right after it is queued.</summary>
    private async Task<bool> RecordDeliveryAsync(HookEvent e)
    {
        try
        {
            await catalog.RecordDeliveryAsync(e.Delivery, Key, e.ReceivedAt);
            return true;
        }
        catch (Exception error)
        {
            Log.CatalogFailed(logger, error, Key);
            return false;
        }
    }

    /// <summary>
    /// Makes sure the delivery id is in the catalog before its event leaves the queue: the write made when
    /// it was queued usually did it; an event recovered from storage, or whose first write failed, is
    /// written now, and a failure here stops the completion (the drain tries again).
    /// </summary>
    private async Task RememberDeliveryAsync(HookEvent e)
    {
        if (deliveryRecords.Remove(e.Delivery, out var recorded) && await recorded)
        {
            return;
        }

        await catalog.RecordDeliveryAsync(e.Delivery, Key, e.ReceivedAt);
    }

    private void PublishSummary()
    {
        summaryDirty = true;
        if (summaryPublisher.IsCompleted)
        {
            summaryPublisher = PublishSummariesAsync();
        }
    }

    private async Task PublishSummariesAsync()
    {
        while (summaryDirty)
        {
            // The catalog may trail by a moment: a burst of changes costs one write, not one per change.
            await Task.Delay(SummaryDelay);
            summaryDirty = false;
            try
            {
                await catalog.RecordRefAsync(Summarize());
            }
            catch (Exception e)
            {
                Log.CatalogFailed(logger, e, Key);
            }
        }
    }

    private RefSummary Summarize()
    {
        var (repository, gitRef) = RefKey.Split(Key);
        var pending = queue.Pending;
        var last = log.State.History.IsEmpty ? null : log.State.History[0];
        var headError = pending.IsEmpty ? null : pending[0].Attempts.LastOrDefault()?.Error;
        var state = Paused ? RefSummary.PausedState
            : headError is not null ? RefSummary.Retrying
            : !pending.IsEmpty ? RefSummary.Pending
            : last?.Outcome == Outcome.Failed ? RefSummary.FailedState
            : RefSummary.Idle;
        return new RefSummary(Key, repository, gitRef, pending.Count, Paused, state,
            last?.Event.Delivery, last?.Outcome, headError ?? last?.Error, time.GetUtcNow());
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "Queued {Delivery} for {Repository} {Ref} at {Revision}; {QueueLength} pending")]
        public static partial void Queued(ILogger logger, string delivery, string repository, string @ref, string revision, int queueLength);

        [LoggerMessage(2, LogLevel.Warning, "Could not store an event for {Key} (delivery {Delivery}); nothing was acknowledged")]
        public static partial void EnqueueFailed(ILogger logger, Exception error, string key, string delivery);

        [LoggerMessage(3, LogLevel.Information, "Applied {Delivery} for {Repository} {Ref} at {Revision}: {Objects} objects in {ElapsedMs} ms")]
        public static partial void Applied(ILogger logger, string delivery, string repository, string @ref, string revision, int objects, long elapsedMs);

        [LoggerMessage(4, LogLevel.Warning, "Attempt {Attempt} for {Delivery} ({Repository} {Ref}) failed, transient: {Transient}: {Error}")]
        public static partial void AttemptFailed(ILogger logger, string delivery, string repository, string @ref, int attempt, bool transient, string error);

        [LoggerMessage(5, LogLevel.Information, "Attempt for {Delivery} abandoned because the silo is stopping; it will run again")]
        public static partial void Abandoned(ILogger logger, Exception error, string delivery);

        [LoggerMessage(6, LogLevel.Error, "Draining {Key} failed; trying again shortly")]
        public static partial void DrainFailed(ILogger logger, Exception error, string key);

        [LoggerMessage(7, LogLevel.Warning, "Could not unregister the reminder of {Key}")]
        public static partial void ReminderCleanupFailed(ILogger logger, Exception error, string key);

        [LoggerMessage(9, LogLevel.Warning, "The queue of {Key} is full ({QueueLength} pending); delivery {Delivery} was not accepted")]
        public static partial void QueueFull(ILogger logger, string key, string delivery, int queueLength);

        [LoggerMessage(8, LogLevel.Warning, "Could not update the ref catalog for {Key}")]
        public static partial void CatalogFailed(ILogger logger, Exception error, string key);
    }
}
