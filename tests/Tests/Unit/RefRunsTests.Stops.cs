using System.Collections.Concurrent;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Pipeline;
using CiTrigger.Grains.Processing;
using CiTrigger.Tests.Support;
using Xunit;
using static CiTrigger.Tests.Support.RefSteps;

namespace CiTrigger.Tests.Unit;

// With Handler:CancelSuperseded: the runs a newer event or a teardown cancels, and the stops sent for them.
public sealed partial class RefRunsTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    /// <summary>How often a stop is tried before it is left for the next activation or reminder tick (Handler:MaxStopAttempts).</summary>
    private static readonly int StopAttempts = new RetryOptions().MaxStopAttempts;

    /// <summary>The cluster as the ref's runs see it: whether it is followed, and the stops it was asked (and how it answers them).</summary>
    private sealed class Control : IRunControl
    {
        private TaskCompletionSource? held;

        public bool Follows { get; set; } = true;

        public ConcurrentQueue<string> Stopped { get; } = new();

        /// <summary>How many of the next stops fail, and with what.</summary>
        public int Failures { get; set; }

        public Exception Failure { get; set; } = new TransientException("the API server answered 503");

        /// <summary>Stops are answered only once <see cref="Release"/> is called, as by an API server slow to answer.</summary>
        public void Hold() => held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Release() => held?.TrySetResult();

        public async Task StopAsync(RunObjectRecord run, CancellationToken cancellationToken)
        {
            if (held is { } answer)
            {
                await answer.Task;
            }

            // Noted once answered, so a test that sees the stop knows how it was answered.
            var fails = Failures > 0;
            Failures -= fails ? 1 : 0;
            Stopped.Enqueue($"{run.Kind} {run.Name}");
            if (fails)
            {
                throw Failure;
            }
        }
    }

    /// <summary>
    /// Waits until the history as stored owes no stop of <paramref name="delivery"/>'s run any more (the stop owed
    /// was stored with the cancel): the stop was confirmed or refused for good, and recorded. Stops are sent
    /// beside the ref's turns, so a test sees them done where they land, in the store.
    /// </summary>
    private Task StopRecordedAsync(string delivery) => Eventually.Until(
        () => !memory.StoredHistory.Any(h => h.Event.Delivery == delivery && h.Run is { } run && run.Objects.Any(o => o.StopPending)),
        Bound, $"the stop of {delivery}'s run recorded");

    /// <summary>Waits until the cluster was asked <paramref name="count"/> stops in all (a stop that keeps failing is asked no more after its last attempt).</summary>
    private Task AskedAsync(int count) => Eventually.Until(() => control.Stopped.Count >= count, Bound, $"{count} stops asked");

    /// <summary>With cancel superseded: d1 runs a Workflow, d2 (a ConfigMap) supersedes it while the next <paramref name="failingStops"/> stops fail.</summary>
    private async Task<(RefEvents Events, RefRuns Runs)> SupersedeAsync(int failingStops)
    {
        var (events, runs) = await OpenAsync(cancelSuperseded: true);
        await ApplyAsync(events, HookEvents.Push(1), Applied(Workflow));
        control.Failures = failingStops;
        await ApplyAsync(events, HookEvents.Push(2), Applied(Config));
        await (failingStops < StopAttempts ? StopRecordedAsync("d1") : AskedAsync(StopAttempts));
        return (events, runs);
    }

    [Fact]
    public async Task With_cancel_superseded_an_object_the_newer_event_applied_again_is_not_stopped_and_finishes_the_newer_run()
    {
        var (events, runs) = await OpenAsync(cancelSuperseded: true);
        await ApplyAsync(events, HookEvents.Push(1), Applied(Workflow));

        await ApplyAsync(events, HookEvents.Push(2), Applied(Workflow));
        await runs.ChangedAsync(State("d2", Workflow, RunResult.Success));

        Assert.Empty(control.Stopped);
        Assert.Equal(EventStates.Cancelled, EventStates.Of(events.History.Find("d1")!));
        Assert.Equal(EventStates.Succeeded, EventStates.Of(events.History.Find("d2")!));
        Assert.Equal(("d2", StatusState.Success, "Workflow ci-x7k2p succeeded"), statuses.Reported[^1]);
    }

    [Fact]
    public async Task With_cancel_superseded_a_newer_applied_event_stops_and_cancels_the_earlier_run_at_once()
    {
        var (events, _) = await OpenAsync(cancelSuperseded: true);
        await ApplyAsync(events, HookEvents.Push(1), Applied(Workflow));
        var second = Workflow with { Name = "ci-second" };

        await ApplyAsync(events, HookEvents.Push(2), Applied(second));
        await StopRecordedAsync("d1");

        Assert.Equal(["Workflow ci-x7k2p"], control.Stopped);
        var first = events.History.Find("d1")!;
        Assert.Equal(EventStates.Cancelled, EventStates.Of(first));
        Assert.Equal("superseded by d2", first.Run!.Objects[0].Message);
        Assert.Equal(EventStates.Running, EventStates.Of(events.History.Find("d2")!));
        Assert.Contains(("d1", StatusState.Cancelled, "Workflow ci-x7k2p was cancelled: superseded by d2"), statuses.Reported);
        Assert.Equal(["d2"], catalog.Running.Keys);
    }

    [Fact]
    public async Task Without_cancel_superseded_an_earlier_run_goes_on()
    {
        var (events, _) = await OpenAsync();
        await ApplyAsync(events, HookEvents.Push(1), Applied(Workflow));
        await ApplyAsync(events, HookEvents.Push(2), Applied(Workflow with { Name = "ci-second" }));

        Assert.Empty(control.Stopped);
        Assert.Equal(["d1", "d2"], events.History.Running.Select(h => h.Event.Delivery));
        Assert.Equal(["d1", "d2"], catalog.Running.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_stop_that_fails_is_tried_again_and_one_that_keeps_failing_does_not_fail_the_new_event()
    {
        var (events, runs) = await SupersedeAsync(failingStops: 1);
        Assert.Equal(["Workflow ci-x7k2p", "Workflow ci-x7k2p"], control.Stopped);

        await ApplyAsync(events, HookEvents.Push(3), Applied(Workflow with { Name = "ci-third" }));
        control.Failure = new PermanentException("forbidden: cannot patch workflows");
        control.Failures = 10;
        await ApplyAsync(events, HookEvents.Push(4), Applied(Config));
        await StopRecordedAsync("d3");

        Assert.Equal(3, control.Stopped.Count);
        Assert.False(events.History.Find("d3")!.Run!.Objects[0].StopPending);
        Assert.False(runs.HasUnfinished);
        Assert.Equal(Outcome.Applied, events.History.Find("d4")!.Outcome);
        Assert.Equal(EventStates.Cancelled, EventStates.Of(events.History.Find("d3")!));
        Assert.Empty(events.Pending);
    }

    [Fact]
    public async Task A_stop_the_cluster_did_not_confirm_stays_in_the_history_and_the_next_activation_sends_it()
    {
        var (events, runs) = await SupersedeAsync(failingStops: 100);

        // Cancelled at once (the check says so), the stop itself still owed, and the ref keeps its reminder for it.
        var cancelled = events.History.Find("d1")!;
        Assert.Equal(EventStates.Cancelled, EventStates.Of(cancelled));
        Assert.True(Assert.Single(cancelled.Run!.Objects).StopPending);
        Assert.True(runs.HasUnfinished);
        Assert.Empty(catalog.Running);

        // Another activation (this silo died, or the reminder ticked) sends it; once confirmed it is done.
        control.Failures = 0;
        var (reopened, resumed) = await OpenAsync(cancelSuperseded: true);
        Assert.True(resumed.HasUnfinished);
        var sentBefore = control.Stopped.Count;
        resumed.ResumeStops();
        resumed.ResumeStops();
        await StopRecordedAsync("d1");

        Assert.Equal(sentBefore + 1, control.Stopped.Count);
        Assert.False(reopened.History.Find("d1")!.Run!.Objects[0].StopPending);
        Assert.False(resumed.HasUnfinished);
        var (again, _) = await OpenAsync();
        Assert.False(again.History.Find("d1")!.Run!.Objects[0].StopPending);
    }

    [Fact]
    public async Task A_cancelled_run_owing_a_stop_outlives_the_history_bound_until_the_stop_is_done()
    {
        var (events, _) = await OpenAsync(cancelSuperseded: true, historySize: 2);
        await ApplyAsync(events, HookEvents.Push(1), Applied(Workflow));
        control.Failures = 100;

        // The stop stays in flight while d3 and d4 finish, so it is tried exactly its attempts, then left owed.
        control.Hold();
        for (var n = 2; n <= 4; n++)
        {
            await ApplyAsync(events, HookEvents.Push(n), Applied(Config));
        }

        control.Release();
        await AskedAsync(StopAttempts);
        Assert.Equal(["d4", "d3", "d1"], events.History.Entries.Select(h => h.Event.Delivery));

        // The next activation (or reminder tick) sends it again; once it is done the bound holds again.
        control.Failures = 0;
        var (reopened, resumed) = await OpenAsync(cancelSuperseded: true, historySize: 2);
        resumed.ResumeStops();
        await StopRecordedAsync("d1");
        await ApplyAsync(reopened, HookEvents.Push(5), Applied(Config));
        Assert.Equal(["d5", "d4"], reopened.History.Entries.Select(h => h.Event.Delivery));
    }

    [Fact]
    public async Task With_cancel_superseded_a_branch_delete_stops_every_run_even_when_its_own_manifest_failed()
    {
        var (events, _) = await OpenAsync(cancelSuperseded: true);
        await ApplyAsync(events, HookEvents.Push(1), Applied(Workflow));
        var delete = HookEvents.Push(2) with { RefDeleted = true, Revision = "" };
        await events.AddAsync(delete);
        var error = new ManifestException(".ci/workflow.yaml not found at main");
        await events.RecordAsync(events.Pending[0], new AttemptResult(null, error, new AttemptRecord(Now, TimeSpan.Zero, error.Message, false)), outOfChain: false);
        await StopRecordedAsync("d1");

        Assert.Equal(Outcome.Failed, events.History.Find("d2")!.Outcome);
        Assert.Equal("the ref was deleted (d2)", events.History.Find("d1")!.Run!.Objects[0].Message);
        Assert.Equal(["Workflow ci-x7k2p"], control.Stopped);
    }

    [Fact]
    public async Task With_cancel_superseded_a_failed_ordinary_event_cancels_nothing()
    {
        var (events, _) = await OpenAsync(cancelSuperseded: true);
        await ApplyAsync(events, HookEvents.Push(1), Applied(Workflow));
        await events.AddAsync(HookEvents.Push(2));
        var error = new ManifestException("YAML invalid");
        await events.RecordAsync(events.Pending[0], new AttemptResult(null, error, new AttemptRecord(Now, TimeSpan.Zero, error.Message, false)), outOfChain: false);

        Assert.Empty(control.Stopped);
        Assert.Equal(EventStates.Running, EventStates.Of(events.History.Find("d1")!));
    }
}
