using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Pipeline;
using CiTrigger.Grains.Processing;
using CiTrigger.Tests.Support;
using Xunit;
using static CiTrigger.Tests.Support.RefSteps;

namespace CiTrigger.Tests.Unit;

/// <summary>
/// Pipeline mode's checks and runs over a ref's parts: one check per pipeline of an event, a skipped one for a
/// pipeline whose rules did not match, each pipeline's check completing when its own objects finish, superseded and
/// <c>/cancel</c>led per pipeline, and <c>/retest</c> choosing the pipelines that did not succeed.
/// </summary>
public sealed class PipelineRunsTests : IDisposable
{
    private static readonly AppliedObject Backend = new("argoproj.io/v1alpha1", "Workflow", "ci", "backend-x1", "created", "backend");
    private static readonly AppliedObject Deploy = new("batch/v1", "Job", "ci", "deploy-x2", "created", "deploy");
    private static readonly AppliedObject DocsConfig = new("v1", "ConfigMap", "ci", "docs", "configured", "docs");

    private readonly MemoryRef memory = new(new MemoryGrainStorage(new Journal()), new MemoryRefCatalog(new Journal()));
    private readonly Control control = new();

    public void Dispose() => memory.Dispose();

    /// <summary>A followed cluster whose stops always succeed.</summary>
    private sealed class Control : IRunControl
    {
        public bool Follows => true;

        public Task StopAsync(RunObjectRecord run, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private async Task<RefParts> OpenAsync(bool cancelSuperseded = false)
    {
        var retry = new RetryPolicy(3, TimeSpan.Zero, TimeSpan.Zero, new Random(7));
        var services = memory.Services(retry, control, new QueueOptions(), new RunOptions { RunTimeout = TimeSpan.FromHours(6), CancelSuperseded = cancelSuperseded });
        return await memory.OpenAsync(services with { PipelineMode = true });
    }

    private AttemptResult Applied(IReadOnlyList<AppliedObject> objects, params PipelineRecord[] pipelines) =>
        new(objects, null, new AttemptRecord(memory.Time.GetUtcNow(), TimeSpan.FromSeconds(1), null, false)) { Pipelines = [.. pipelines] };

    [Fact]
    public async Task Each_pipeline_gets_its_own_check_and_a_skipped_one_says_which_rule_did_not_hold()
    {
        using var parts = await OpenAsync();
        await ApplyAsync(parts.Events, HookEvents.Push(1), Applied([Backend, DocsConfig],
            new PipelineRecord("backend", PipelineStatus.Applied),
            new PipelineRecord("deploy", PipelineStatus.Skipped, "on-branch: refs/heads/feature is not main"),
            new PipelineRecord("docs", PipelineStatus.Applied)));

        // Accepted: nothing reported yet (the pipelines are known only once the event is processed).
        Assert.Empty(memory.Statuses.Reported);
        Assert.Equal(
            [("d1", "backend", StatusState.Running), ("d1", "deploy", StatusState.Skipped), ("d1", "docs", StatusState.Success)],
            memory.Statuses.PipelineReports.Select(r => (r.Delivery, r.Pipeline, r.State)));
        Assert.Contains("on-branch", memory.Statuses.PipelineReports.Single(r => r.Pipeline == "deploy").Description, StringComparison.Ordinal);

        await parts.Runs.ChangedAsync(State("d1", Backend, RunResult.Failure, "exit 1"));
        var last = memory.Statuses.PipelineReports[^1];
        Assert.Equal(("backend", StatusState.Failure), (last.Pipeline, last.State));
        Assert.Contains("Workflow backend-x1 failed", last.Description, StringComparison.Ordinal);
        Assert.Equal(RunResult.Failure, parts.History.Find("d1")!.Run!.Result);
    }

    [Fact]
    public async Task A_pipelines_check_completes_when_its_own_objects_finish_while_another_still_runs()
    {
        using var parts = await OpenAsync();
        await ApplyAsync(parts.Events, HookEvents.Push(1), Applied([Backend, Deploy],
            new PipelineRecord("backend", PipelineStatus.Applied), new PipelineRecord("deploy", PipelineStatus.Applied)));
        memory.Statuses.PipelineReports.Clear();

        await parts.Runs.ChangedAsync(State("d1", Deploy, RunResult.Success));
        Assert.Equal([("deploy", StatusState.Success)], memory.Statuses.PipelineReports.Select(r => (r.Pipeline, r.State)));
        Assert.Null(parts.History.Find("d1")!.Run!.FinishedAt);

        // A repeated report of the finished pipeline's object changes nothing and reports nothing again.
        await parts.Runs.ChangedAsync(State("d1", Deploy, RunResult.Success));
        await parts.Runs.ChangedAsync(State("d1", Backend, RunResult.Success));
        Assert.Equal([("deploy", StatusState.Success), ("backend", StatusState.Success)], memory.Statuses.PipelineReports.Select(r => (r.Pipeline, r.State)));
        Assert.Equal(RunResult.Success, parts.History.Find("d1")!.Run!.Result);
        Assert.Empty(memory.Statuses.Reported);
    }

    [Fact]
    public async Task A_newer_event_supersedes_only_the_runs_of_the_pipelines_it_applied()
    {
        using var parts = await OpenAsync(cancelSuperseded: true);
        await ApplyAsync(parts.Events, HookEvents.Push(1), Applied([Backend, Deploy],
            new PipelineRecord("backend", PipelineStatus.Applied), new PipelineRecord("deploy", PipelineStatus.Applied)));
        var newerBackend = Backend with { Name = "backend-y1" };
        await ApplyAsync(parts.Events, HookEvents.Push(2), Applied([newerBackend],
            new PipelineRecord("backend", PipelineStatus.Applied), new PipelineRecord("deploy", PipelineStatus.Skipped, "on-path-change: no changed file matches deploy/**")));

        var older = parts.History.Find("d1")!.Run!;
        Assert.Equal(RunResult.Cancelled, older.Objects.Single(o => o.Pipeline == "backend").Result);
        Assert.Equal(RunResult.Running, older.Objects.Single(o => o.Pipeline == "deploy").Result);
        Assert.Contains(("d1", "backend", StatusState.Cancelled), memory.Statuses.PipelineReports.Select(r => (r.Delivery, r.Pipeline, r.State)));
        Assert.DoesNotContain(("d1", "deploy", StatusState.Cancelled), memory.Statuses.PipelineReports.Select(r => (r.Delivery, r.Pipeline, r.State)));
        Assert.Equal(["backend-x1"], older.Objects.Where(o => o.StopPending || o.Message == "superseded by d2").Select(o => o.Name));
    }

    [Fact]
    public async Task Cancel_with_a_name_stops_that_pipelines_objects_only_and_without_one_every_running_one()
    {
        using var parts = await OpenAsync();
        await ApplyAsync(parts.Events, HookEvents.Push(1), Applied([Backend, Deploy],
            new PipelineRecord("backend", PipelineStatus.Applied), new PipelineRecord("deploy", PipelineStatus.Applied)));

        Assert.Equal(1, await parts.Runs.CancelAsync("cancelled by /cancel backend (c1)", "backend"));
        Assert.Equal(0, await parts.Runs.CancelAsync("cancelled by /cancel backend (c2)", "backend"));
        var run = parts.History.Find("d1")!.Run!;
        Assert.Equal([RunResult.Cancelled, RunResult.Running], run.Objects.Select(o => o.Result));

        Assert.Equal(1, await parts.Runs.CancelAsync("cancelled by /cancel (c3)", null));
        Assert.Equal(RunResult.Cancelled, parts.History.Find("d1")!.Run!.Result);
        Assert.Equal(
            [("backend", StatusState.Cancelled), ("deploy", StatusState.Cancelled)],
            memory.Statuses.PipelineReports.Where(r => r.State == StatusState.Cancelled).Select(r => (r.Pipeline, r.State)));
    }

    [Fact]
    public async Task Retest_chooses_the_pipelines_whose_last_result_at_the_head_was_not_success()
    {
        using var parts = await OpenAsync();
        var head = HookEvents.Push(1);
        await ApplyAsync(parts.Events, head, Applied([Backend, Deploy, DocsConfig],
            new PipelineRecord("backend", PipelineStatus.Applied), new PipelineRecord("deploy", PipelineStatus.Applied),
            new PipelineRecord("docs", PipelineStatus.Applied), new PipelineRecord("lint", PipelineStatus.Failed, "bad manifest"),
            new PipelineRecord("site", PipelineStatus.Skipped, "on-path-change: no match")));
        await parts.Runs.ChangedAsync(State("d1", Deploy, RunResult.Failure));

        // backend still runs: no result yet; deploy failed; docs applied with nothing to follow; lint failed; site skipped.
        Assert.Equal(["deploy", "lint"], PullRequestCommands.Unsuccessful(parts.History, head));

        // A re-run of deploy alone (its check's Re-run) that succeeded is deploy's last word.
        var rerun = await parts.Reruns.RunAsync(new RerunRequest("d1", "", memory.Time.GetUtcNow(), null, "deploy"), () => Task.CompletedTask);
        Assert.Equal(RerunStatus.Queued, rerun.Status);
        var again = parts.Events.Pending.Single();
        Assert.Equal(["deploy"], again.Event.Pipelines!);
        var deployAgain = Deploy with { Name = "deploy-x3" };
        await parts.Events.RecordAsync(again, Applied([deployAgain], new PipelineRecord("deploy", PipelineStatus.Applied)), outOfChain: true);
        await parts.Runs.ChangedAsync(State(again.Event.Delivery, deployAgain, RunResult.Success));
        Assert.Equal(["lint"], PullRequestCommands.Unsuccessful(parts.History, head));
    }

    private static HookEvent PullRequest(int n) => HookEvents.Push(n) with { EventType = "pull_request", Action = "opened", PullRequest = 5, BaseRef = "refs/heads/main" };

    private static HookEvent Command(string delivery, string command, string? pipeline = null, string? line = null) =>
        PullRequest(9) with { Delivery = delivery, EventType = "issue_comment", Action = "created", Command = command, Pipelines = pipeline is null ? null : [pipeline], CommentLine = line };

    [Fact]
    public async Task Trusted_comments_queue_the_heads_pipelines_cancel_them_and_retest_only_what_did_not_succeed()
    {
        using var parts = await OpenAsync();
        var head = PullRequest(1);
        await ApplyAsync(parts.Events, head, Applied([Backend, Deploy],
            new PipelineRecord("backend", PipelineStatus.Applied), new PipelineRecord("deploy", PipelineStatus.Applied)));

        // /cancel deploy stops deploy's run only; its check says who asked.
        await parts.Events.AddAsync(Command("c1", HookEvent.CancelCommand, "deploy"));
        var run = parts.History.Find("d1")!.Run!;
        Assert.Equal([RunResult.Running, RunResult.Cancelled], run.Objects.Select(o => o.Result));
        Assert.Contains(("deploy", StatusState.Cancelled), memory.Statuses.PipelineReports.Select(r => (r.Pipeline, r.State)));
        Assert.Contains("/cancel deploy (c1)", memory.Statuses.PipelineReports.Single(r => r.State == StatusState.Cancelled).Description, StringComparison.Ordinal);

        // /retest runs again what did not succeed (deploy, cancelled), not backend (still running).
        await parts.Events.AddAsync(Command("c2", HookEvent.RetestCommand));
        var retest = Assert.Single(parts.Events.Pending).Event;
        Assert.Equal(("d1-retest-1", "d1"), (retest.Delivery, retest.RerunOf));
        Assert.Equal(["deploy"], retest.Pipelines!);
        await parts.Events.RecordAsync(parts.Events.Pending.Single(), Applied([], new PipelineRecord("deploy", PipelineStatus.Applied)), outOfChain: true);

        // /test NAME names one pipeline; any other comment carries its line for on-comment rules; a redelivered command is a duplicate.
        await parts.Events.AddAsync(Command("c3", HookEvent.TestCommand, "backend"));
        await parts.Events.AddAsync(Command("c4", HookEvent.CommentCommand, line: "deploy please"));
        Assert.Equal(EnqueueStatus.Duplicate, await parts.Events.RefusalAsync("c4", 100));
        Assert.Equal(
            [("d1-test-1", (string?)"backend", (string?)null), ("d1-comment-1", null, "deploy please")],
            parts.Events.Pending.Select(p => (p.Event.Delivery, p.Event.Pipelines?.Single(), p.Event.CommentLine)));
    }

    [Fact]
    public async Task A_pull_request_waiting_for_approval_shows_it_on_the_context_alone_and_approval_completes_that_check_skipped()
    {
        using var parts = await OpenAsync();
        await parts.Events.AddAsync(PullRequest(1) with { NeedsApproval = true });
        Assert.Equal([("d1", StatusState.ActionRequired)], memory.Statuses.Reported.Select(r => (r.Delivery, r.State)));

        await parts.Events.AddAsync(Command("c1", HookEvent.ApproveCommand));

        Assert.Equal([("d1", StatusState.ActionRequired), ("d1", StatusState.Skipped)], memory.Statuses.Reported.Select(r => (r.Delivery, r.State)));
        Assert.StartsWith("approved: each pipeline reports in a check of its own", memory.Statuses.Reported[^1].Description, StringComparison.Ordinal);
        Assert.False(Assert.Single(parts.Events.Pending).AwaitingApproval);
        Assert.Empty(memory.Statuses.PipelineReports);
    }
}
