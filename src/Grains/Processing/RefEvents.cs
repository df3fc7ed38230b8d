using System.Collections.Immutable;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Pipeline;
using CiTrigger.Grains.Telemetry;

namespace CiTrigger.Grains.Processing;

/// <summary>What the ref should do next: process <see cref="Entry"/>, or look again at <see cref="Due"/> (or when woken).</summary>
public readonly record struct NextWork(PendingEvent? Entry, bool OutOfChain, DateTimeOffset? Due);

/// <summary>
/// A ref's events and the rules that move them: accepted into the <see cref="PendingQueue"/>, picked in
/// order (<see cref="QueueOrder"/>), retried or finished by the <see cref="RetryPolicy"/>'s decision, and
/// finished into the <see cref="RefHistory"/> with the status reported, an applied event's run objects
/// handed to <see cref="RefRuns"/> to follow. Holds no Orleans machinery, so it can be tested without a
/// silo (built by <see cref="RefParts"/>, as the grain builds it); the ref grain calls it one turn at a time.
/// </summary>
public sealed class RefEvents(
    PendingQueue queue, RefHistory history, DeliveryIndex deliveries, RefRuns runs, RefActivity activity,
    RetryPolicy retry, TriggerMetrics metrics, IResultReporter statuses, TimeProvider time)
{
    // Deliveries queued by this activation and not attempted yet: nothing can have applied them anywhere,
    // so their first attempt skips looking for objects an earlier attempt might have created.
    private readonly HashSet<string> untried = new(StringComparer.Ordinal);

    public ImmutableList<PendingEvent> Pending => queue.Pending;

    /// <summary>
    /// Pipeline mode: the checks of an event are its pipelines', known only once it is processed, so an accepted
    /// event reports nothing; only waiting for approval is shown, on the check named by <c>GitHub:StatusContext</c>.
    /// </summary>
    public bool PipelineMode { get; init; }

    /// <summary>The repositories' own settings; a Repository's <c>concurrencyLimit</c> makes events wait for run slots.</summary>
    public IRepositorySettings Repositories { get; init; } = NoRepositorySettings.Instance;

    /// <summary>The repositories' run slots.</summary>
    public IRunSlots Slots { get; init; } = NoRunSlots.Instance;

    /// <summary>How long a ref waiting for a run slot sleeps before it asks again, should the repository's wake be lost.</summary>
    public static readonly TimeSpan SlotRecheck = TimeSpan.FromSeconds(30);

    public RefHistory History => history;

    public bool Paused => queue.Paused;

    public async Task LoadAsync()
    {
        await queue.LoadAsync();
        await history.LoadAsync();
        metrics.QueueDepthChanged(queue.Pending.Count);
    }

    /// <summary>
    /// Why the delivery cannot be accepted, or null when it can: seen before (pending, in the history, or in
    /// the delivery index), or the queue already holds <paramref name="maxQueueLength"/> events.
    /// </summary>
    public async Task<EnqueueStatus?> RefusalAsync(string delivery, int maxQueueLength) =>
        history.IsFinished(delivery) || queue.Contains(delivery) || await deliveries.IsKnownAsync(delivery) ? EnqueueStatus.Duplicate
        : queue.Pending.Count >= maxQueueLength ? EnqueueStatus.Full
        : null;

    /// <summary>
    /// Stores the event and its delivery record; returns once both are durable, throws when either failed
    /// (the event taken back from memory when its own write failed).
    /// </summary>
    public async Task AddAsync(HookEvent e)
    {
        if (e.IsCommand)
        {
            await deliveries.StoreAsync(e, () => PullRequestCommands.RunAsync(this, e));
            return;
        }

        if (e.PullRequest > 0)
        {
            await SupersedeWaitingAsync(e.Delivery);
            e = PullRequestCommands.WithLabelApproval(e, queue.LabelledBy);
        }

        var entry = new PendingEvent(e, time.GetUtcNow());
        try
        {
            await deliveries.StoreAsync(e, () => queue.AddAsync(entry));
        }
        finally
        {
            if (queue.Contains(e.Delivery))
            {
                untried.Add(e.Delivery);
                metrics.QueueDepthChanged(1);
                if (e.NeedsApproval)
                {
                    statuses.Report(e, StatusState.ActionRequired, PullRequestCommands.WaitingDescription);
                }
                else if (!PipelineMode)
                {
                    statuses.Report(e, StatusState.Pending, "queued");
                }
            }
        }
    }

    /// <summary>
    /// An approval names the pull request's current head: an older head still waiting will never be
    /// approved, so a newer event of the pull request finishes it as skipped instead of leaving it queued.
    /// </summary>
    private async Task SupersedeWaitingAsync(string newer)
    {
        foreach (var waiting in queue.Pending.Where(p => p.AwaitingApproval).ToList())
        {
            await CompleteAsync(waiting, Outcome.Skipped, $"superseded by {newer} before it was approved", [], outOfChain: false);
        }
    }

    /// <summary>
    /// Lets the waiting events run (an approval), or, with <paramref name="ifWriter"/>, run once GitHub says that
    /// user has write access (else they wait again); returns the deliveries released.
    /// </summary>
    internal async Task<IReadOnlyList<string>> ReleaseWaitingAsync(string? ifWriter = null)
    {
        var released = new List<string>();
        foreach (var waiting in queue.Pending.Where(p => p.AwaitingApproval).ToList())
        {
            var approved = waiting with { Event = waiting.Event with { NeedsApproval = false, RunsIfWriter = ifWriter is null ? null : [ifWriter] } };
            await queue.ReplaceAsync(approved);
            if (PipelineMode)
            {
                // The waiting check is done with: the pipelines report in checks of their own once the event runs.
                statuses.Report(approved.Event, StatusState.Skipped, ifWriter is null ? "approved: each pipeline reports in a check of its own" : $"approved if {ifWriter} may write: each pipeline reports in a check of its own");
            }
            else
            {
                statuses.Report(approved.Event, StatusState.Pending, ifWriter is null ? "approved; queued" : $"queued: approved if {ifWriter} may write");
            }
            released.Add(approved.Event.Delivery);
        }

        return released;
    }

    /// <summary>Remembers who added the approval label that is on the ref's pull request; "" once it is removed.</summary>
    internal Task SetLabelledByAsync(string login) => queue.SetLabelledByAsync(login);

    /// <summary>Queues a copy of an event under a new delivery id (a re-test, a re-run); it keeps the copy's need for approval.</summary>
    internal async Task AddCopyAsync(HookEvent copy, string description = "queued (/retest)")
    {
        var entry = new PendingEvent(copy, time.GetUtcNow());
        await deliveries.StoreAsync(copy, () => queue.AddAsync(entry));
        untried.Add(copy.Delivery);
        metrics.QueueDepthChanged(1);
        if (copy.NeedsApproval || !PipelineMode)
        {
            statuses.Report(copy, copy.NeedsApproval ? StatusState.ActionRequired : StatusState.Pending,
                copy.NeedsApproval ? PullRequestCommands.WaitingDescription : description);
        }
    }

    /// <summary>Cancels the ref's running runs, or one pipeline's (a trusted <c>/cancel</c>).</summary>
    internal Task<int> CancelRunsAsync(string reason, string? pipeline) => runs.CancelAsync(reason, pipeline);

    /// <summary>Whether a delivery id is taken: pending, finished, or in the delivery index.</summary>
    internal async Task<bool> IsKnownAsync(string delivery) =>
        history.IsFinished(delivery) || queue.Contains(delivery) || await deliveries.IsKnownAsync(delivery);

    /// <summary>Whether the next attempt at the delivery must look for objects an earlier one may have created.</summary>
    public bool MayHaveRun(string delivery) => !untried.Remove(delivery);

    public async Task<NextWork> NextAsync(TimeSpan reorderWindow)
    {
        metrics.QueueDepthChanged(-await history.DropFinishedAsync(queue));
        var now = time.GetUtcNow();
        if (activity.SlotWaitUntil is { } asleep)
        {
            // The head waits for a run slot, and the ref's order with it.
            if (asleep > now)
            {
                return new NextWork(null, false, asleep);
            }

            activity.SlotWaitUntil = null;
        }

        // Events waiting for approval are held where they are; nothing behind them in the ref waits for them.
        var runnable = queue.Pending.RemoveAll(p => p.AwaitingApproval);
        var next = QueueOrder.Pick(runnable, history.LastAfter, now, reorderWindow);
        if (next.Index < 0)
        {
            return new NextWork(null, false, next.WaitUntil);
        }

        var entry = runnable[next.Index];
        return entry.NotBefore is { } notBefore && notBefore > now
            ? new NextWork(null, false, notBefore)
            : new NextWork(entry, next.OutOfChain, null);
    }

    /// <summary>Records an attempt: the event is finished (applied, or failed for good), or waits for its retry.</summary>
    public async Task RecordAsync(PendingEvent entry, AttemptResult attempt, bool outOfChain)
    {
        var attempted = entry with { Attempts = entry.Attempts.Add(attempt.Record), Progress = attempt.Progress ?? entry.Progress };
        if (attempt.Error is null)
        {
            // A pipeline that failed for good fails the event; the others' objects still run and report.
            var failed = attempt.Pipelines?.Where(p => p.Status == PipelineStatus.Failed).ToList() ?? [];
            await CompleteAsync(attempted, failed.Count == 0 ? Outcome.Applied : Outcome.Failed,
                failed.Count == 0 ? null : string.Join("; ", failed.Select(p => $"pipeline {p.Name}: {p.Reason}")), attempt.Objects!, outOfChain, attempt.Pipelines);
            return;
        }

        if (attempt.Error is WaitingForRunSlotException waiting)
        {
            // Not an attempt: the event keeps its place in its repository's line, and the ref sleeps until woken.
            activity.SlotWaitUntil = time.GetUtcNow() + SlotRecheck;
            if (!entry.WaitedForSlot)
            {
                await queue.ReplaceAsync(entry with { WaitedForSlot = true });
                statuses.Report(entry.Event, StatusState.Pending, waiting.Message);
            }

            return;
        }

        if (attempt.Error is ApprovalRequiredException)
        {
            // Nobody it depends on may write: it waits for an approval like an untrusted author's event.
            var held = attempted with { Event = attempted.Event with { NeedsApproval = true, RunsIfWriter = null } };
            await queue.ReplaceAsync(held);
            statuses.Report(held.Event, StatusState.ActionRequired, PullRequestCommands.WaitingDescription);
            return;
        }

        var decision = retry.Decide(attempted.Attempts.Count, attempt.Error, attempt.Record.Error!);
        if (!decision.Retry)
        {
            // What earlier attempts applied still runs; the pipelines not settled fail with the final error.
            var progress = attempted.Progress;
            var pipelines = progress is null ? null
                : progress.Pipelines.AddRange(progress.Unsettled.Select(name => new PipelineRecord(name, PipelineStatus.Failed, decision.FinalError)));
            await CompleteAsync(attempted, Outcome.Failed, decision.FinalError, progress?.Objects ?? [], outOfChain, pipelines);
            return;
        }

        metrics.Retrying();
        await queue.ReplaceAsync(attempted with { NotBefore = time.GetUtcNow() + decision.Delay });
    }

    public async Task CompleteAsync(
        PendingEvent entry, Outcome outcome, string? error, IReadOnlyList<AppliedObject> objects, bool outOfChain, ImmutableList<PipelineRecord>? pipelines = null)
    {
        // The run goes into the unfinished set before the history says it runs (see RefRuns). A failed event has
        // objects only in pipeline mode, those of the pipelines that applied: they run all the same.
        var run = outcome == Outcome.Applied || objects.Count > 0 ? await runs.StartAsync(entry.Event, objects) : null;
        var record = new HistoryEntry(entry.Event, outcome, error, entry.AcceptedAt, time.GetUtcNow(), entry.Attempts, [.. objects], outOfChain)
        {
            Run = run,
            Pipelines = pipelines,
        };
        metrics.QueueDepthChanged(-await history.CompleteAsync(record, queue));
        metrics.Finished(outcome.ToString().ToLowerInvariant(), record.EndToEnd);
        await runs.EventRecordedAsync(entry, objects, run);
        if (pipelines is not null)
        {
            if (entry.WaitedForSlot)
            {
                // The waiting was shown on the check of GitHub:StatusContext; the pipelines report in checks of their own.
                statuses.Report(entry.Event, StatusState.Skipped, "started after waiting for a run slot: each pipeline reports in a check of its own");
            }

            // A check per pipeline; no pipelines at the revision: nothing applied, and no check (the design's "no pipelines").
            PipelineReports.Report(statuses, entry.Event, pipelines, objects, run);
        }
        else if (run is null)
        {
            statuses.ReportOutcome(entry.Event, outcome, error, objects);
        }
        else
        {
            var (state, description) = RunBook.Report(run);
            statuses.Report(entry.Event, state, description, objects);
        }

        await runs.FinishedAsync(record);
    }

    /// <summary>Makes the head of the queue due now (an operator's retry).</summary>
    public async Task<AdminResult> RetryHeadAsync()
    {
        if (HeadUnavailable() is { } refusal)
        {
            return refusal;
        }

        var head = queue.Pending[0];
        await queue.ReplaceAsync(head with { NotBefore = null });
        return new AdminResult(true, "the head of the queue will be attempted now", head.Event.Delivery);
    }

    /// <summary>Finishes the head of the queue as skipped (an operator's way past a stuck event).</summary>
    public async Task<AdminResult> SkipHeadAsync()
    {
        if (HeadUnavailable() is { } refusal)
        {
            return refusal;
        }

        var head = queue.Pending[0];
        await CompleteAsync(head, Outcome.Skipped, "skipped by an operator", [], outOfChain: false);
        return new AdminResult(true, "the head of the queue was skipped", head.Event.Delivery);
    }

    public async Task<AdminResult> SetPausedAsync(bool paused)
    {
        if (queue.Paused != paused)
        {
            await queue.SetPausedAsync(paused);
        }

        return new AdminResult(true, paused ? "paused: events are queued but not processed" : "resumed", null);
    }

    /// <summary>The activation is going away: its pending events no longer count in this silo's queue depth.</summary>
    public void Unload() => metrics.QueueDepthChanged(-queue.Pending.Count);

    private AdminResult? HeadUnavailable()
    {
        if (queue.Pending.IsEmpty)
        {
            return new AdminResult(false, "the queue is empty", null);
        }

        var head = queue.Pending[0].Event.Delivery;
        return head == activity.InFlight ? new AdminResult(false, "the head of the queue is being processed right now", head) : null;
    }
}
