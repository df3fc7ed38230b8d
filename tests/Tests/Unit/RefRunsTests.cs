using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Pipeline;
using CiTrigger.Grains.Processing;
using CiTrigger.Grains.Storage;
using CiTrigger.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using Xunit;
using static CiTrigger.Tests.Support.RefSteps;

namespace CiTrigger.Tests.Unit;

/// <summary>
/// A ref's followed runs over in-memory stores, a fake cluster control and a fake clock: started, moved on by
/// what the cluster reports and lists, timed out; the runs a newer event cancels, and their stops, in RefRunsTests.Stops.cs.
/// </summary>
public sealed partial class RefRunsTests : IDisposable
{
    private static readonly DateTimeOffset Now = MemoryRef.Now;
    private static readonly AppliedObject Workflow = new("argoproj.io/v1alpha1", "Workflow", "ci", "ci-x7k2p", "created");
    private static readonly AppliedObject Config = new("v1", "ConfigMap", "ci", "settings", "configured");

    private readonly Journal journal = new();
    private readonly MemoryRef memory;
    private readonly MemoryRefCatalog catalog;
    private readonly FakeTimeProvider time;
    private readonly RecordingStatuses statuses;
    private readonly Control control = new();
    private readonly MeterListener listener = new();
    private readonly ConcurrentQueue<(string Instrument, string Result)> measured = new();

    public RefRunsTests()
    {
        memory = new MemoryRef(new MemoryGrainStorage(journal), new MemoryRefCatalog(journal));
        (catalog, time, statuses) = (memory.Catalog, memory.Time, memory.Statuses);
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "citrigger.runs.finished")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, _, tags, _) =>
            measured.Enqueue((instrument.Name, tags.ToArray().Single(t => t.Key == "result").Value as string ?? "")));
        listener.Start();
    }

    public void Dispose()
    {
        memory.Dispose();
        listener.Dispose();
    }

    /// <summary>A ref's parts as the ref grain builds them, over this test's stores (a new activation each call).</summary>
    private Task<RefParts> OpenPartsAsync(bool cancelSuperseded = false, int historySize = 20)
    {
        // No waits between stop attempts, so the retries need no clock.
        var retry = new RetryPolicy(5, TimeSpan.Zero, TimeSpan.Zero, new Random(7));
        var options = new RunOptions { RunTimeout = TimeSpan.FromHours(6), CancelSuperseded = cancelSuperseded };
        return memory.OpenAsync(memory.Services(retry, control, new QueueOptions { HistorySize = historySize }, options));
    }

    /// <summary>A ref's events and runs as the ref grain builds them, over this test's stores (a new activation each call).</summary>
    private async Task<(RefEvents Events, RefRuns Runs)> OpenAsync(bool cancelSuperseded = false, int historySize = 20)
    {
        var parts = await OpenPartsAsync(cancelSuperseded, historySize);
        return (parts.Events, parts.Runs);
    }

    private AttemptResult Applied(params AppliedObject[] objects) => new(objects, null, new AttemptRecord(time.GetUtcNow(), TimeSpan.FromSeconds(1), null, false));

    private static RunListScope WorkflowsIn(string ns) => new("argoproj.io/v1alpha1", "Workflow", ns);

    [Fact]
    public async Task An_applied_event_with_a_run_object_is_running_in_its_history_in_the_unfinished_set_and_reported_in_progress()
    {
        var (events, runs) = await OpenAsync();

        await ApplyAsync(events, HookEvents.Push(1), Applied(Config, Workflow));

        var entry = Assert.Single(events.History.Entries);
        Assert.Equal(Outcome.Applied, entry.Outcome);
        Assert.Equal(RunResult.Running, entry.Run!.Result);
        Assert.Equal(Now, entry.Run.StartedAt);
        Assert.Equal("ci-x7k2p", Assert.Single(entry.Run.Objects).Name);
        Assert.Equal(EventStates.Running, EventStates.Of(entry));
        Assert.Equal(("d1", StatusState.Running, "running Workflow ci-x7k2p"), statuses.Reported[^1]);
        Assert.Equal(new RunningRun("d1", HookEvents.Key, Now), Assert.Single(catalog.Running.Values));
        Assert.True(runs.HasUnfinished);
        var written = journal.Entries.ToList();
        Assert.InRange(written.IndexOf("running d1"), 0, written.LastIndexOf("write log.0") - 1);
    }

    [Fact]
    public async Task A_report_that_comes_while_its_event_is_still_being_recorded_is_applied_once_it_is()
    {
        var (events, runs) = await OpenAsync();
        await events.AddAsync(HookEvents.Push(1));

        // The watch saw the Workflow succeed before the ref recorded the event that created it.
        await runs.ChangedAsync(State("d1", Workflow, RunResult.Success));
        await runs.ChangedAsync(State("d9", Workflow with { Name = "unknown" }, RunResult.Failure));
        await events.RecordAsync(events.Pending.Single(), Applied(Workflow), outOfChain: false);

        var entry = events.History.Find("d1")!;
        Assert.Equal((RunResult.Success, EventStates.Succeeded), (entry.Run!.Result, EventStates.Of(entry)));
        Assert.Equal(("d1", StatusState.Success, "Workflow ci-x7k2p succeeded"), statuses.Reported[^1]);
        Assert.Empty(catalog.Running);
        Assert.False(runs.HasUnfinished);
    }

    [Fact]
    public async Task Without_run_objects_or_without_a_cluster_to_follow_an_applied_event_succeeds_at_once()
    {
        var (events, runs) = await OpenAsync();
        await ApplyAsync(events, HookEvents.Push(1), Applied(Config));
        control.Follows = false;
        await ApplyAsync(events, HookEvents.Push(2), Applied(Workflow));

        Assert.All(events.History.Entries, h => Assert.Null(h.Run));
        Assert.Equal([StatusState.Success, StatusState.Success], statuses.Reported.Where(r => r.State != StatusState.Pending).Select(r => r.State));
        Assert.Equal(EventStates.Applied, EventStates.Of(events.History.Entries[0]));
        Assert.Empty(catalog.Running);
        Assert.False(runs.HasUnfinished);
    }

    [Fact]
    public async Task The_finished_object_completes_the_run_once_however_often_it_is_reported()
    {
        var (events, runs) = await OpenAsync();
        await ApplyAsync(events, HookEvents.Push(1), Applied(Workflow));
        time.Advance(TimeSpan.FromMinutes(4));

        await runs.ChangedAsync(State("d1", Workflow, RunResult.Success));
        await runs.ChangedAsync(State("d1", Workflow, RunResult.Success));
        await runs.ChangedAsync(State("d1", Workflow, RunResult.Failure, "contradicts an earlier report"));

        var run = events.History.Entries[0].Run!;
        Assert.Equal((RunResult.Success, (DateTimeOffset?)(Now + TimeSpan.FromMinutes(4))), (run.Result, run.FinishedAt));
        Assert.Equal(EventStates.Succeeded, EventStates.Of(events.History.Entries[0]));
        Assert.Single(statuses.Reported, r => r.State == StatusState.Success);
        Assert.Equal(("d1", StatusState.Success, "Workflow ci-x7k2p succeeded"), statuses.Reported[^1]);
        Assert.Empty(catalog.Running);
        Assert.False(runs.HasUnfinished);
        Assert.Equal([("citrigger.runs.finished", "success")], measured);
    }

    [Fact]
    public async Task A_new_activation_keeps_following_the_run_the_last_one_started()
    {
        var (events, _) = await OpenAsync();
        await ApplyAsync(events, HookEvents.Push(1), Applied(Workflow));

        var parts = await OpenPartsAsync();
        var (reopened, runs) = (parts.Events, parts.Runs);
        Assert.True(runs.HasUnfinished);
        Assert.Equal(RefSummary.Idle, parts.View.Summarize().State);
        await runs.ChangedAsync(State("d1", Workflow, RunResult.Failure, "step test failed"));
        Assert.Equal(RefSummary.FailedState, parts.View.Summarize().State);

        Assert.Equal(RunResult.Failure, reopened.History.Entries[0].Run!.Result);
        Assert.Equal(("d1", StatusState.Failure, "Workflow ci-x7k2p failed: step test failed"), statuses.Reported[^1]);
        var (again, _) = await OpenAsync();
        Assert.Equal(EventStates.Failed, EventStates.Of(again.History.Entries[0]));
    }

    [Fact]
    public async Task A_running_event_is_kept_beyond_the_history_size_until_its_run_finishes()
    {
        var (events, runs) = await OpenAsync(historySize: 2);
        await ApplyAsync(events, HookEvents.Push(1), Applied(Workflow));
        for (var n = 2; n <= 4; n++)
        {
            await ApplyAsync(events, HookEvents.Push(n), Applied(Config));
        }

        Assert.Equal(["d4", "d3", "d1"], events.History.Entries.Select(h => h.Event.Delivery));
        await runs.ChangedAsync(State("d1", Workflow, RunResult.Success));
        Assert.Equal(["d4", "d3"], events.History.Entries.Select(h => h.Event.Delivery));
        Assert.Equal(("d1", StatusState.Success, "Workflow ci-x7k2p succeeded"), statuses.Reported[^1]);
    }

    [Fact]
    public async Task Runs_that_never_finish_do_not_grow_the_history_past_twice_its_size_and_the_oldest_is_given_up_as_timed_out()
    {
        var (events, runs) = await OpenAsync(historySize: 3);
        for (var n = 1; n <= 10; n++)
        {
            await ApplyAsync(events, HookEvents.Push(n), Applied(Workflow with { Name = $"ci-{n}" }));
        }

        Assert.Equal(["d10", "d9", "d8"], events.History.Running.Reverse().Select(h => h.Event.Delivery));
        Assert.InRange(events.History.Entries.Count, 3, 6);
        Assert.Equal(["d10", "d9", "d8"], catalog.Running.Keys.OrderByDescending(k => int.Parse(k[1..], System.Globalization.CultureInfo.InvariantCulture)));
        var first = statuses.Reported.Where(r => r.Delivery == "d1").ToList();
        Assert.Equal((StatusState.TimedOut, "Workflow ci-1 timed out: no longer followed: newer runs of this ref fill what the service keeps (Handler:HistorySize)"),
            (first[^1].State, first[^1].Description));
        Assert.True(runs.HasUnfinished);
    }

    [Fact]
    public async Task A_list_of_the_home_namespace_leaves_a_run_in_an_allowed_namespace_to_the_list_of_its_own()
    {
        var (events, runs) = await OpenAsync();
        var elsewhere = Workflow with { Namespace = "builds" };
        await ApplyAsync(events, HookEvents.Push(1), Applied(elsewhere));
        time.Advance(RefRuns.ListGrace);

        await runs.ListedAsync(WorkflowsIn("ci"), ["d1"], []);
        Assert.Equal(EventStates.Running, EventStates.Of(events.History.Entries[0]));

        await runs.ListedAsync(WorkflowsIn("builds"), ["d1"], [State("d1", elsewhere, RunResult.Failure, "step test failed")]);
        Assert.Equal(EventStates.Failed, EventStates.Of(events.History.Entries[0]));
        Assert.Equal(("d1", StatusState.Failure, "Workflow ci-x7k2p failed: step test failed"), statuses.Reported[^1]);
    }

    [Fact]
    public async Task A_run_still_going_at_the_timeout_ends_timed_out()
    {
        var (events, runs) = await OpenAsync();
        await ApplyAsync(events, HookEvents.Push(1), Applied(Workflow));

        time.Advance(TimeSpan.FromHours(6) - TimeSpan.FromSeconds(1));
        await runs.TimeOutAsync();
        Assert.True(runs.HasUnfinished);

        time.Advance(TimeSpan.FromSeconds(1));
        await runs.TimeOutAsync();
        Assert.Equal(EventStates.TimedOut, EventStates.Of(events.History.Entries[0]));
        Assert.Equal(("d1", StatusState.TimedOut, "Workflow ci-x7k2p timed out: still running after 6 h"), statuses.Reported[^1]);
        Assert.Empty(catalog.Running);
        Assert.Equal([("citrigger.runs.finished", "timed_out")], measured);
    }

    [Fact]
    public async Task A_list_cancels_an_old_run_whose_object_it_lacks_and_forgets_a_leftover_of_the_unfinished_set()
    {
        var (events, runs) = await OpenAsync();
        await ApplyAsync(events, HookEvents.Push(1), Applied(Workflow));
        await catalog.RecordRunningAsync("d0", HookEvents.Key, Now);
        time.Advance(RefRuns.ListGrace);

        await runs.ListedAsync(WorkflowsIn("ci"), ["d0", "d1"], []);

        Assert.Equal(EventStates.Cancelled, EventStates.Of(events.History.Entries[0]));
        Assert.Equal(("d1", StatusState.Cancelled, $"Workflow ci-x7k2p was cancelled: {RunBook.DeletedUnwatched}"), statuses.Reported[^1]);
        Assert.Empty(catalog.Running);
    }

    [Fact]
    public async Task A_list_takes_the_listed_result_of_a_young_run_but_does_not_cancel_it_for_being_absent()
    {
        var (events, runs) = await OpenAsync();
        await ApplyAsync(events, HookEvents.Push(1), Applied(Workflow));
        await ApplyAsync(events, HookEvents.Push(2), Applied(Workflow with { Name = "ci-second" }));

        await runs.ListedAsync(WorkflowsIn("ci"), ["d1", "d2"], [State("d1", Workflow, RunResult.Success)]);
        await runs.ListedAsync(new RunListScope("batch/v1", "Job", "ci"), ["d1", "d2"], []);

        Assert.Equal(EventStates.Succeeded, EventStates.Of(events.History.Find("d1")!));
        Assert.Equal(EventStates.Running, EventStates.Of(events.History.Find("d2")!));
        Assert.Equal(["d2"], catalog.Running.Keys);
    }
}
