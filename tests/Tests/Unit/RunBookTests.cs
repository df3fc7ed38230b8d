using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Pipeline;
using CiTrigger.Grains.Processing;
using Xunit;

namespace CiTrigger.Tests.Unit;

public class RunBookTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
    private static readonly AppliedObject Workflow = new("argoproj.io/v1alpha1", "Workflow", "ci", "ci-x7k2p", "created");
    private static readonly AppliedObject Job = new("batch/v1", "Job", "ci", "lint", "configured");
    private static readonly AppliedObject Config = new("v1", "ConfigMap", "ci", "settings", "configured");
    private static readonly RunListScope Workflows = new("argoproj.io/v1alpha1", "Workflow", "ci");

    private static RunObjectState State(AppliedObject o, RunResult result, string? message = null, string delivery = "d1") =>
        new(delivery, "octo/app", "refs/heads/main", o.ApiVersion, o.Kind, o.Namespace, o.Name, result, message);

    private static RunRecord Run(params AppliedObject[] objects) => RunBook.Start(objects, Start)!;

    [Fact]
    public void Only_run_kinds_are_followed_and_an_event_without_them_has_no_run()
    {
        var run = Run(Config, Workflow, Job);

        Assert.Equal(["Workflow ci-x7k2p", "Job lint"], run.Objects.Select(o => $"{o.Kind} {o.Name}"));
        Assert.All(run.Objects, o => Assert.Equal(RunResult.Running, o.Result));
        Assert.Equal((RunResult.Running, Start, (DateTimeOffset?)null), (run.Result, run.StartedAt, run.FinishedAt));
        Assert.Null(RunBook.Start([Config], Start));
        Assert.Null(RunBook.Start([new AppliedObject("example.com/v1", "Workflow", "ci", "lookalike", "created")], Start));
    }

    [Theory]
    [InlineData(new[] { RunResult.Success, RunResult.Success }, RunResult.Success)]
    [InlineData(new[] { RunResult.Success, RunResult.Running }, RunResult.Running)]
    [InlineData(new[] { RunResult.Cancelled, RunResult.TimedOut }, RunResult.TimedOut)]
    [InlineData(new[] { RunResult.TimedOut, RunResult.Failure, RunResult.Cancelled }, RunResult.Failure)]
    [InlineData(new[] { RunResult.Success, RunResult.Cancelled }, RunResult.Cancelled)]
    public void A_run_succeeds_only_when_every_object_did_and_otherwise_takes_failure_before_timed_out_before_cancelled(RunResult[] results, RunResult expected)
    {
        var objects = results.Select((r, i) => new RunObjectRecord("batch/v1", "Job", "ci", $"j{i}", r)).ToList();

        Assert.Equal(expected, RunRecord.Aggregate(objects));
    }

    [Fact]
    public void The_run_finishes_with_the_last_object_and_repeated_or_stale_reports_change_nothing()
    {
        var run = Run(Workflow, Job);
        var later = Start.AddMinutes(3);

        var one = RunBook.Observe(run, State(Workflow, RunResult.Success), later)!;
        Assert.Equal((RunResult.Running, (DateTimeOffset?)null), (one.Result, one.FinishedAt));
        Assert.Null(RunBook.Observe(one, State(Workflow, RunResult.Success), later));
        Assert.Null(RunBook.Observe(one, State(Workflow, RunResult.Failure, "late contradiction"), later));
        Assert.Null(RunBook.Observe(one, State(Job, RunResult.Running), later));
        Assert.Null(RunBook.Observe(one, State(Job with { Name = "other" }, RunResult.Failure), later));

        var done = RunBook.Observe(one, State(Job, RunResult.Failure, "exit code 2"), later.AddMinutes(1))!;
        Assert.Equal((RunResult.Failure, (DateTimeOffset?)later.AddMinutes(1)), (done.Result, done.FinishedAt));
        Assert.Equal("exit code 2", done.Objects[1].Message);
        Assert.Null(RunBook.Observe(done, State(Job, RunResult.Success), later.AddMinutes(2)));
    }

    [Fact]
    public void An_object_is_the_same_under_another_version_of_its_api_group_but_not_in_another_namespace()
    {
        var run = Run(Workflow);

        Assert.NotNull(RunBook.Observe(run, State(Workflow with { ApiVersion = "argoproj.io/v1" }, RunResult.Success), Start));
        Assert.Null(RunBook.Observe(run, State(Workflow with { Namespace = "other" }, RunResult.Success), Start));
    }

    [Fact]
    public void A_list_gives_listed_objects_their_state_and_cancels_a_followed_object_it_lacks()
    {
        var second = Workflow with { Name = "ci-second" };
        var run = Run(Workflow, second, Job);

        var listed = RunBook.Listed(run, Workflows, [State(Workflow, RunResult.Success)], missingIsDeleted: true, Start.AddHours(1))!;

        Assert.Equal([RunResult.Success, RunResult.Cancelled, RunResult.Running], listed.Objects.Select(o => o.Result));
        Assert.Equal(RunBook.DeletedUnwatched, listed.Objects[1].Message);
        Assert.Null(listed.FinishedAt);
        Assert.Null(RunBook.Listed(listed, Workflows, [], missingIsDeleted: true, Start.AddHours(1)));
    }

    [Fact]
    public void A_list_of_one_namespace_judges_only_the_objects_in_that_namespace()
    {
        var elsewhere = Workflow with { Namespace = "builds", Name = "ci-elsewhere" };
        var run = Run(Workflow, elsewhere);

        var listed = RunBook.Listed(run, Workflows, [], missingIsDeleted: true, Start.AddHours(1))!;

        Assert.Equal([RunResult.Cancelled, RunResult.Running], listed.Objects.Select(o => o.Result));
        var there = RunBook.Listed(listed, Workflows with { Namespace = "builds" }, [State(elsewhere, RunResult.Success)], missingIsDeleted: true, Start.AddHours(1))!;
        Assert.Equal([RunResult.Cancelled, RunResult.Success], there.Objects.Select(o => o.Result));
    }

    [Fact]
    public void A_list_does_not_judge_a_run_too_young_to_be_in_it_by_what_it_lacks()
    {
        var run = Run(Workflow);

        Assert.Null(RunBook.Listed(run, Workflows, [], missingIsDeleted: false, Start));
        Assert.Null(RunBook.Listed(run, Workflows, [State(Workflow, RunResult.Running)], missingIsDeleted: true, Start));
        Assert.Equal(RunResult.Success,
            RunBook.Listed(run, Workflows, [State(Workflow, RunResult.Success)], missingIsDeleted: false, Start)!.Result);
    }

    [Fact]
    public void A_run_times_out_once_it_has_run_for_the_timeout_and_a_failure_beside_it_still_decides()
    {
        var run = Run(Workflow, Job);
        var timeout = TimeSpan.FromHours(6);

        Assert.Null(RunBook.TimeOut(run, timeout, Start + timeout - TimeSpan.FromSeconds(1)));
        var timedOut = RunBook.TimeOut(run, timeout, Start + timeout)!;
        Assert.Equal(RunResult.TimedOut, timedOut.Result);
        Assert.All(timedOut.Objects, o => Assert.Equal("still running after 6 h", o.Message));
        Assert.Null(RunBook.TimeOut(timedOut, timeout, Start + timeout + timeout));

        var failedFirst = RunBook.Observe(run, State(Job, RunResult.Failure), Start.AddMinutes(1))!;
        Assert.Equal(RunResult.Failure, RunBook.TimeOut(failedFirst, timeout, Start + timeout)!.Result);
    }

    [Fact]
    public void Cancelling_ends_only_the_objects_still_running_and_leaves_a_finished_run_alone()
    {
        var run = RunBook.Observe(Run(Workflow, Job), State(Workflow, RunResult.Success), Start)!;

        var cancelled = RunBook.Cancel(run, "superseded by d2", Start.AddMinutes(1))!;

        Assert.Equal(RunResult.Cancelled, cancelled.Result);
        Assert.Equal([(RunResult.Success, (string?)null), (RunResult.Cancelled, "superseded by d2")], cancelled.Objects.Select(o => (o.Result, o.Message)));
        Assert.Equal([false, true], cancelled.Objects.Select(o => o.StopPending));
        Assert.Equal([cancelled.Objects[1]], RunBook.ToStop(cancelled));
        Assert.Null(RunBook.Cancel(cancelled, "again", Start.AddMinutes(2)));

        var stopped = RunBook.StopDone(cancelled, cancelled.Objects[1])!;
        Assert.Empty(RunBook.ToStop(stopped));
        Assert.Equal(cancelled.Objects.Select(o => (o.Result, o.Message)), stopped.Objects.Select(o => (o.Result, o.Message)));
        Assert.Null(RunBook.StopDone(stopped, cancelled.Objects[1]));
    }

    [Fact]
    public void Cancelling_never_marks_for_stopping_an_object_that_the_newer_run_applied_too()
    {
        var run = Run(Workflow, Job);
        var newer = RunBook.Start([Workflow with { ApiVersion = "argoproj.io/v1" }], Start.AddMinutes(1))!;

        var cancelled = RunBook.Cancel(run, "superseded by d2", Start.AddMinutes(1), newer)!;

        Assert.Equal(RunResult.Cancelled, cancelled.Result);
        Assert.Equal([cancelled.Objects[1]], RunBook.ToStop(cancelled));
        Assert.Equal("superseded by d2, which applied this object again: it is that event's run now", cancelled.Objects[0].Message);
    }

    [Fact]
    public void Giving_up_a_run_ends_its_running_objects_as_timed_out_and_sends_no_more_stops()
    {
        var given = RunBook.GiveUp(Run(Workflow), "no longer followed", Start.AddMinutes(5));
        Assert.Equal((RunResult.TimedOut, (DateTimeOffset?)Start.AddMinutes(5), "no longer followed"), (given.Result, given.FinishedAt, given.Objects[0].Message));

        var cancelled = RunBook.Cancel(Run(Workflow), "superseded by d2", Start)!;
        var released = RunBook.GiveUp(cancelled, "no longer followed", Start.AddMinutes(5));
        Assert.Empty(RunBook.ToStop(released));
        Assert.Equal((RunResult.Cancelled, (DateTimeOffset?)Start, "superseded by d2"), (released.Result, released.FinishedAt, released.Objects[0].Message));
    }

    [Fact]
    public void A_run_is_reported_running_with_its_objects_then_with_the_object_that_decided_it()
    {
        var run = Run(Workflow, Job);
        Assert.Equal((StatusState.Running, "running Workflow ci-x7k2p and 1 more"), RunBook.Report(run));

        var success = RunBook.Observe(RunBook.Observe(run, State(Workflow, RunResult.Success), Start)!, State(Job, RunResult.Success), Start)!;
        Assert.Equal((StatusState.Success, "Workflow ci-x7k2p and 1 more succeeded"), RunBook.Report(success));

        var failed = RunBook.Observe(run, State(Job, RunResult.Failure, "step build\nexit code 1"), Start)!;
        var ended = RunBook.Cancel(failed, "superseded by d2", Start)!;
        Assert.Equal((StatusState.Failure, "Job lint failed: step build exit code 1"), RunBook.Report(ended));

        Assert.Equal((StatusState.Cancelled, "Workflow ci-x7k2p was cancelled: superseded by d2"), RunBook.Report(RunBook.Cancel(Run(Workflow), "superseded by d2", Start)!));
        Assert.Equal((StatusState.TimedOut, "Workflow ci-x7k2p timed out: still running after 30 min"),
            RunBook.Report(RunBook.TimeOut(Run(Workflow), TimeSpan.FromMinutes(30), Start.AddHours(1))!));
    }
}
