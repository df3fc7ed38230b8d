using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Kubernetes;
using CiTrigger.Grains.Pipeline;
using CiTrigger.Grains.Storage;
using CiTrigger.Grains.Telemetry;
using Microsoft.Extensions.Logging;

namespace CiTrigger.Grains.Processing;

/// <summary>
/// A ref's followed runs: started when an event applies run objects, moved on by what the cluster
/// reports, ended by the timeout or by a newer event (<see cref="RunOptions.CancelSuperseded"/>). The
/// state is the history's entries (durable) and the catalog's set of unfinished runs, written before the
/// history and forgotten after it, so a list always reaches every ref that waits. The rules themselves
/// are <see cref="RunBook"/>'s; this class applies them, stores, reports and counts. What the cluster
/// reports about an event still in the <paramref name="queue"/> is kept for it; a changed run has its
/// catalog line written again through the <paramref name="summary"/>. A finished run has the ref's older finished
/// run objects beyond its repository's <c>keepRuns</c> deleted through the <paramref name="pruner"/> (RefRuns.Prunes.cs).
/// </summary>
public sealed partial class RefRuns(
    string key, RefHistory history, PendingQueue queue, SummaryPublisher summary, IRefCatalog catalog, IRunControl control,
    RetryPolicy retry, IResultReporter statuses, TriggerMetrics metrics, RunOptions options, TimeProvider time, ILogger logger,
    IRunPruner pruner, IRepositorySettings repositories)
{
    /// <summary>
    /// A list may have been taken just before a young run's objects were created; the watch that continues
    /// from the list reports those, so only runs at least this old are judged by what a list lacks.
    /// </summary>
    public static readonly TimeSpan ListGrace = TimeSpan.FromMinutes(1);

    /// <summary>Reports kept for an event still being recorded, per delivery; few, since one event is recorded at a time.</summary>
    private const int MaxEarly = 64;

    // What the cluster reported about the objects of an event the history does not hold yet: the watch can be
    // faster than the ref, which records the event after the create returned. Applied once the event is recorded.
    private readonly Dictionary<string, List<RunObjectState>> early = new(StringComparer.Ordinal);

    /// <summary>The repositories' run slots: a finished run hands its slot on.</summary>
    public IRunSlots Slots { get; init; } = NoRunSlots.Instance;

    /// <summary>A run is still followed, or a stop still to be confirmed: the ref's reminder must stay.</summary>
    public bool HasUnfinished => history.OwesWork;

    /// <summary>The runs' Git credentials, whose Secret goes when an event's run finished; null: none.</summary>
    public RunCredentials? Credentials { get; init; }

    /// <summary>
    /// An event finished without a run to follow (<paramref name="run"/> null): its Git credential's Secret is no
    /// longer needed, and goes now; unless run objects it applied run unfollowed (<c>Kubernetes:FollowRuns=false</c>),
    /// whose end the service never learns: their Secret goes with its owner, the first of them. An event never
    /// attempted has no Secret. Returns whether the Secret is deleted now.
    /// </summary>
    public bool EventFinished(PendingEvent entry, IReadOnlyList<AppliedObject> objects, RunRecord? run)
    {
        if (Credentials is not { Enabled: true } || run is not null || entry.Attempts.IsEmpty
            || (!control.Follows && objects.Any(o => RunKinds.Find(o.ApiVersion, o.Kind) is not null)))
        {
            return false;
        }

        Credentials.Release(entry.Event);
        return true;
    }

    /// <summary>
    /// The run of an event that applied <paramref name="objects"/>, noted in the unfinished set; null when
    /// the cluster is not followed (dry-run) or the event created no run object (complete once applied).
    /// </summary>
    public async Task<RunRecord?> StartAsync(HookEvent e, IReadOnlyList<AppliedObject> objects)
    {
        if (!control.Follows || RunBook.Start(objects, time.GetUtcNow()) is not { } run)
        {
            return null;
        }

        await MakeRoomAsync();
        await catalog.RecordRunningAsync(e.Delivery, key, run.StartedAt);
        return run;
    }

    /// <summary>
    /// Lets the oldest runs go when the ref already follows as many as its history keeps
    /// (<see cref="QueueOptions.HistorySize"/>): an unfinished one ends as timed out (its check says the service
    /// stopped waiting), a finished one no longer sends its unconfirmed stops. So the history stays bounded
    /// however many runs never finish.
    /// </summary>
    private async Task MakeRoomAsync()
    {
        foreach (var entry in history.OverBound.ToList())
        {
            var reason = "no longer followed: newer runs of this ref fill what the service keeps (Handler:HistorySize)";
            var run = entry.Run!;
            if (run.FinishedAt is null)
            {
                await SettleAsync(entry, RunBook.GiveUp(run, reason, time.GetUtcNow()));
            }
            else
            {
                Log.StopsAbandoned(logger, entry.Event.Delivery, key);
                await history.UpdateAsync(entry with { Run = RunBook.GiveUp(run, reason, time.GetUtcNow()) });
            }
        }
    }

    /// <summary>
    /// After <paramref name="entry"/> finished into the history: what the cluster reported early about its
    /// objects is applied to its run; with <see cref="RunOptions.CancelSuperseded"/>,
    /// an applied event cancels the runs of the ref's earlier events, and a teardown (branch deleted, pull
    /// request closed) every other run of the ref, whatever its own outcome. Never throws: the new event is done.
    /// </summary>
    public async Task FinishedAsync(HistoryEntry entry)
    {
        var e = entry.Event;
        if (early.Remove(e.Delivery, out var reported))
        {
            try
            {
                foreach (var state in reported)
                {
                    await ChangedAsync(state);
                }
            }
            catch (Exception error)
            {
                // The run stays unfinished in the history and the set: the next list settles it.
                Log.EarlyFailed(logger, error, e.Delivery, key);
            }
        }

        var teardown = e.Meaning.Teardown;
        // In pipeline mode a newer event supersedes the runs of the pipelines it applied, not those it skipped:
        // an older commit's run of a pipeline the newer one did not touch is still that pipeline's latest word.
        var applied = entry.Pipelines?.Where(p => p.Status == PipelineStatus.Applied).Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        var cancelSuperseded = repositories.Find(RefKey.Split(key).Repository)?.CancelSuperseded ?? options.CancelSuperseded;
        if (!cancelSuperseded || (entry.Outcome != Outcome.Applied && applied is not { Count: > 0 } && !teardown))
        {
            return;
        }

        var reason = !teardown ? $"superseded by {e.Delivery}"
            : e.RefDeleted ? $"the ref was deleted ({e.Delivery})"
            : $"the pull request was closed ({e.Delivery})";
        Func<string?, bool>? superseded = teardown || applied is null ? null : p => p is null || applied.Contains(p);
        try
        {
            foreach (var older in history.Running.Where(h => h.Event.Delivery != e.Delivery).ToList())
            {
                // Recorded first (the objects marked to stop), then sent: a crash in between leaves the stop to the next activation.
                await SettleAsync(older, RunBook.Cancel(older.Run!, reason, time.GetUtcNow(), entry.Run, superseded));
            }

            ResumeStops();
        }
        catch (Exception error)
        {
            Log.CancelFailed(logger, error, key, e.Delivery);
        }
    }

    /// <summary>
    /// Cancels the ref's running runs, or only the objects of <paramref name="pipeline"/> (a trusted <c>/cancel</c>);
    /// returns how many runs it changed.
    /// </summary>
    public async Task<int> CancelAsync(string reason, string? pipeline)
    {
        var changed = 0;
        foreach (var running in history.Running.ToList())
        {
            var cancelled = RunBook.Cancel(running.Run!, reason, time.GetUtcNow(), null, pipeline is null ? null : p => p == pipeline);
            if (cancelled is not null)
            {
                changed++;
                await SettleAsync(running, cancelled);
            }
        }

        ResumeStops();
        return changed;
    }

    /// <summary>A run object finished or was deleted.</summary>
    public async Task ChangedAsync(RunObjectState state)
    {
        var entry = history.Find(state.Delivery);
        if (entry is { Run: { } run })
        {
            await SettleAsync(entry, RunBook.Observe(run, state, time.GetUtcNow()));
        }
        else if (entry is null && queue.Contains(state.Delivery))
        {
            KeepEarly(state);
        }
    }

    /// <summary>
    /// A list of every object of one kind in one namespace, narrowed to <paramref name="deliveries"/> (this ref's entries in
    /// the unfinished set when the list arrived). A delivery listed there whose run is not unfinished here is
    /// a leftover of a finish that did not get to forget it, and is forgotten now.
    /// </summary>
    public async Task ListedAsync(RunListScope scope, IReadOnlyCollection<string> deliveries, IReadOnlyList<RunObjectState> objects)
    {
        var now = time.GetUtcNow();
        foreach (var delivery in deliveries)
        {
            var entry = history.Find(delivery);
            if (entry is null && queue.Contains(delivery))
            {
                // Put in the set by the event being recorded now: what the list shows of it is news for it.
                foreach (var o in objects.Where(o => o.Delivery == delivery && o.Result != RunResult.Running))
                {
                    KeepEarly(o);
                }

                continue;
            }

            if (entry is not { Run: { FinishedAt: null } run })
            {
                await catalog.ForgetRunningAsync(delivery);
                continue;
            }

            var theirs = objects.Where(o => o.Delivery == delivery).ToList();
            await SettleAsync(entry, RunBook.Listed(run, scope, theirs, now - run.StartedAt >= ListGrace, now));
        }
    }

    /// <summary>Ends the runs older than <see cref="RunOptions.RunTimeout"/> as timed out.</summary>
    public async Task TimeOutAsync()
    {
        foreach (var entry in history.Running.ToList())
        {
            await SettleAsync(entry, RunBook.TimeOut(entry.Run!, options.RunTimeout, time.GetUtcNow()));
        }
    }

    private void KeepEarly(RunObjectState state)
    {
        if (!early.TryGetValue(state.Delivery, out var kept))
        {
            if (early.Count >= MaxEarly)
            {
                early.Remove(early.Keys.First());
            }

            early[state.Delivery] = kept = [];
        }

        kept.Add(state);
    }

    /// <summary>Stores a changed run; once it finished, forgets it in the set, counts it and reports its result.</summary>
    private async Task SettleAsync(HistoryEntry entry, RunRecord? run)
    {
        if (run is null)
        {
            return;
        }

        var delivery = entry.Event.Delivery;
        await history.UpdateAsync(entry with { Run = run });
        summary.Publish(delivery);
        var perPipeline = entry.Pipelines is { Count: > 0 };
        if (perPipeline)
        {
            // Each pipeline's check completes as soon as its own objects finished.
            foreach (var pipeline in RunBook.PipelinesOf(run))
            {
                if (run.Part(pipeline) is { FinishedAt: not null } part && entry.Run is { } before && before.Part(pipeline) is { FinishedAt: null })
                {
                    ReportFinished(entry.Event, part, pipeline);
                    Prune(part, pipeline);
                }
            }
        }

        if (run.FinishedAt is not { } finishedAt)
        {
            return;
        }

        Log.RunFinished(logger, delivery, key, RunResults.Word(run.Result));
        metrics.RunFinished(run.Result, finishedAt - run.StartedAt);
        await ReleaseSlotAsync(delivery);
        Credentials?.Release(entry.Event);
        if (!perPipeline)
        {
            ReportFinished(entry.Event, run, null);
            Prune(run, null);
        }

        try
        {
            await catalog.ForgetRunningAsync(delivery);
        }
        catch (Exception error)
        {
            // Left in the set, the delivery only brings the ref the next list, which forgets it.
            Log.ForgetFailed(logger, error, delivery);
        }
    }

    /// <summary>
    /// An event was recorded finished. Without a run to follow, what it held for one goes now: its run slot
    /// (<c>concurrencyLimit</c>) and, as <see cref="EventFinished"/> decides, its Git credential's Secret. With a run,
    /// both go when the run finishes (<see cref="SettleAsync"/>).
    /// </summary>
    public async Task EventRecordedAsync(PendingEvent entry, IReadOnlyList<AppliedObject> objects, RunRecord? run)
    {
        if (run is null)
        {
            await ReleaseSlotAsync(entry.Event.Delivery);
        }

        EventFinished(entry, objects, run);
    }

    /// <summary>Hands the delivery's run slot on when its repository has a <c>concurrencyLimit</c> (only then can it hold one).</summary>
    private Task ReleaseSlotAsync(string delivery)
    {
        var repository = RefKey.Split(key).Repository;
        return repositories.Find(repository)?.ConcurrencyLimit is null ? Task.CompletedTask : Slots.ReleaseAsync(repository, delivery);
    }

    /// <summary>Whether the delivery still needs its run slot: queued here, or its run not finished.</summary>
    public bool HoldsRun(string delivery) =>
        queue.Contains(delivery) || history.Find(delivery) is { Run.FinishedAt: null };

    /// <summary>A finished run's (or pipeline's part's) report; a failed one names the object that failed, whose log the check shows (App mode).</summary>
    private void ReportFinished(HookEvent e, RunRecord run, string? pipeline)
    {
        var (state, description) = RunBook.Report(run);
        statuses.Report(e, state, description, run.FailedObject() is { } failed ? [failed] : null, pipeline);
    }

    private static partial class Log
    {
        [LoggerMessage(140, LogLevel.Information, "The run of {Delivery} ({Key}) finished: {Result}")]
        public static partial void RunFinished(ILogger logger, string delivery, string key, string result);

        [LoggerMessage(142, LogLevel.Warning, "Could not cancel the runs of {Key} superseded by {Delivery}; they finish when they end or time out")]
        public static partial void CancelFailed(ILogger logger, Exception error, string key, string delivery);

        [LoggerMessage(147, LogLevel.Warning, "Could not record what the cluster reported early about the run of {Delivery} ({Key}); the next list does")]
        public static partial void EarlyFailed(ILogger logger, Exception error, string delivery, string key);

        [LoggerMessage(148, LogLevel.Warning, "The unconfirmed stops of the run of {Delivery} ({Key}) are no longer sent: newer runs fill what the ref keeps")]
        public static partial void StopsAbandoned(ILogger logger, string delivery, string key);

        [LoggerMessage(143, LogLevel.Warning, "Could not take {Delivery} out of the unfinished runs; the next list does")]
        public static partial void ForgetFailed(ILogger logger, Exception error, string delivery);
    }
}
