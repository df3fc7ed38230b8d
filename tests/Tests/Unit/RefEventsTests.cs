using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Pipeline;
using CiTrigger.Grains.Processing;
using CiTrigger.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace CiTrigger.Tests.Unit;

public sealed class RefEventsTests : IDisposable
{
    private static readonly DateTimeOffset Now = MemoryRef.Now;
    private static readonly AppliedObject Workflow = new("argoproj.io/v1alpha1", "Workflow", "ci", "ci-x7k2p", "created");

    private readonly MemoryRef memory = new();
    private readonly MemoryGrainStorage storage;
    private readonly FakeTimeProvider time;
    private readonly RecordingStatuses statuses;

    public RefEventsTests() => (storage, time, statuses) = (memory.Storage, memory.Time, memory.Statuses);

    public void Dispose() => memory.Dispose();

    /// <summary>A ref's events as the ref grain builds them, over this test's stores, with at most <paramref name="maxAttempts"/> attempts.</summary>
    private async Task<RefEvents> OpenAsync(int maxAttempts = 5)
    {
        var retry = new RetryPolicy(maxAttempts, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1), new Random(7));
        return (await memory.OpenAsync(memory.Services(retry))).Events;
    }

    private AttemptResult Failed(Exception error) =>
        new(null, error, new AttemptRecord(time.GetUtcNow(), TimeSpan.FromSeconds(1), AttemptRunner.Describe(error), RetryPolicy.IsTransient(error)));

    private AttemptResult Applied() => new([Workflow], null, new AttemptRecord(time.GetUtcNow(), TimeSpan.FromSeconds(1), null, false));

    [Fact]
    public async Task A_transient_failure_keeps_the_event_queued_with_its_attempt_until_its_backoff_has_passed()
    {
        var events = await OpenAsync();
        await events.AddAsync(HookEvents.Push(1));

        await events.RecordAsync(events.Pending[0], Failed(new TransientException("GitHub answered 503", retryAfter: TimeSpan.FromSeconds(20))), outOfChain: false);

        var waiting = Assert.Single(events.Pending);
        Assert.Equal(Now + TimeSpan.FromSeconds(20), waiting.NotBefore);
        Assert.Equal("GitHub answered 503", Assert.Single(waiting.Attempts).Error);
        Assert.Empty(events.History.Entries);
        Assert.Equal(new NextWork(null, false, Now + TimeSpan.FromSeconds(20)), await events.NextAsync(TimeSpan.Zero));
        time.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal("d1", (await events.NextAsync(TimeSpan.Zero)).Entry?.Event.Delivery);
        var reopened = await OpenAsync();
        Assert.Equal(Now + TimeSpan.FromSeconds(20), Assert.Single(reopened.Pending).NotBefore);
    }

    [Fact]
    public async Task Without_a_retry_after_the_first_retry_waits_between_half_and_all_of_the_base_delay()
    {
        var events = await OpenAsync();
        await events.AddAsync(HookEvents.Push(1));

        await events.RecordAsync(events.Pending[0], Failed(new TransientException("connection reset")), outOfChain: false);

        Assert.InRange(events.Pending[0].NotBefore!.Value, Now + TimeSpan.FromSeconds(0.5), Now + TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task A_permanent_failure_finishes_the_event_as_failed_with_the_reason_and_reports_it()
    {
        var events = await OpenAsync();
        await events.AddAsync(HookEvents.Push(1));

        await events.RecordAsync(events.Pending[0], Failed(new ManifestException("document 0 has no kind")), outOfChain: false);

        Assert.Empty(events.Pending);
        var finished = Assert.Single(events.History.Entries);
        Assert.Equal((Outcome.Failed, "document 0 has no kind"), (finished.Outcome, finished.Error));
        Assert.False(Assert.Single(finished.Attempts).Transient);
        Assert.Equal(("d1", StatusState.Failure, "document 0 has no kind"), statuses.Reported[^1]);
        Assert.Equal(new NextWork(null, false, null), await events.NextAsync(TimeSpan.Zero));
    }

    [Fact]
    public async Task A_transient_failure_at_the_attempt_limit_gives_up_and_says_after_how_many_attempts()
    {
        var events = await OpenAsync(maxAttempts: 3);
        await events.AddAsync(HookEvents.Push(1));

        for (var attempt = 1; attempt <= 2; attempt++)
        {
            await events.RecordAsync(events.Pending[0], Failed(new TransientException("GitHub answered 503")), outOfChain: false);
            Assert.Equal(attempt, Assert.Single(events.Pending).Attempts.Count);
        }

        await events.RecordAsync(events.Pending[0], Failed(new TransientException("GitHub answered 503")), outOfChain: false);

        Assert.Empty(events.Pending);
        var finished = Assert.Single(events.History.Entries);
        Assert.Equal((Outcome.Failed, "gave up after 3 attempts: GitHub answered 503", 3), (finished.Outcome, finished.Error, finished.Attempts.Count));
        Assert.Equal(("d1", StatusState.Failure, "gave up after 3 attempts: GitHub answered 503"), statuses.Reported[^1]);
    }

    [Fact]
    public async Task A_successful_attempt_finishes_the_event_as_applied_with_its_objects_and_reports_them()
    {
        var events = await OpenAsync();
        await events.AddAsync(HookEvents.Push(1));
        time.Advance(TimeSpan.FromSeconds(3));

        await events.RecordAsync(events.Pending[0], Applied(), outOfChain: true);

        var finished = Assert.Single(events.History.Entries);
        Assert.Equal((Outcome.Applied, (string?)null, true), (finished.Outcome, finished.Error, finished.OutOfChain));
        Assert.Equal([Workflow], finished.Objects);
        Assert.Equal(TimeSpan.FromSeconds(3), finished.EndToEnd);
        Assert.Equal([("d1", StatusState.Pending, "queued"), ("d1", StatusState.Success, "applied Workflow ci-x7k2p")], statuses.Reported);
        Assert.Equal(HookEvents.Sha(1), events.History.LastAfter);
    }

    [Fact]
    public async Task A_finished_delivery_is_refused_as_a_duplicate_even_after_it_left_the_history()
    {
        var events = await OpenAsync();
        await events.AddAsync(HookEvents.Push(1));
        await events.RecordAsync(events.Pending[0], Applied(), outOfChain: false);
        Assert.Equal(EnqueueStatus.Duplicate, await events.RefusalAsync("d1", maxQueueLength: 10));

        storage.Records.TryRemove("log.0", out _);
        var forgetful = await OpenAsync();

        Assert.Equal(EnqueueStatus.Duplicate, await forgetful.RefusalAsync("d1", maxQueueLength: 10));
        Assert.Null(await forgetful.RefusalAsync("d2", maxQueueLength: 10));
    }

    /// <summary>Pull request 3's event <paramref name="n"/> (its head moved to commit n), or a command on it when <paramref name="command"/> is given.</summary>
    private static HookEvent PullRequest(int n, bool needsApproval = false, bool labelled = false, string command = "", string sender = "author") =>
        HookEvents.Push(n) with
        {
            Delivery = command.Length == 0 ? $"d{n}" : $"{command}-{n}",
            EventType = "pull_request",
            Action = command.Length == 0 ? "synchronize" : command + "ed",
            PullRequest = 3,
            NeedsApproval = needsApproval,
            ApprovalLabel = labelled,
            Command = command,
            Sender = sender,
        };

    [Fact]
    public async Task An_event_for_which_nobody_it_depends_on_may_write_waits_for_approval_instead_of_failing()
    {
        var events = await OpenAsync();
        await events.AddAsync(PullRequest(1) with { RunsIfWriter = ["fork-owner"] });

        await events.RecordAsync(events.Pending[0], Failed(new ApprovalRequiredException("waiting for approval: no write access to octo/app (fork-owner has permission 'read')")), outOfChain: false);

        var held = Assert.Single(events.Pending);
        Assert.True(held.AwaitingApproval);
        Assert.Null(held.Event.RunsIfWriter);
        Assert.Equal("waiting for approval: no write access to octo/app (fork-owner has permission 'read')", Assert.Single(held.Attempts).Error);
        Assert.Empty(events.History.Entries);
        Assert.Equal(("d1", StatusState.ActionRequired, PullRequestCommands.WaitingDescription), statuses.Reported[^1]);
        Assert.Null((await events.NextAsync(TimeSpan.Zero)).Entry);
    }

    [Fact]
    public async Task The_approval_label_releases_a_waiting_head_only_on_the_word_of_the_user_who_added_it()
    {
        var events = await OpenAsync();
        await events.AddAsync(PullRequest(1, needsApproval: true));

        await events.AddAsync(PullRequest(1, command: HookEvent.LabelCommand, sender: "triager"));

        var released = Assert.Single(events.Pending);
        Assert.False(released.AwaitingApproval);
        Assert.Equal(["triager"], released.Event.RunsIfWriter!);
        Assert.Equal(("d1", StatusState.Pending, "queued: approved if triager may write"), statuses.Reported[^1]);
    }

    [Fact]
    public async Task While_the_label_is_on_a_new_head_that_would_wait_runs_on_the_word_of_whoever_added_it_and_once_removed_it_waits()
    {
        var events = await OpenAsync();
        await events.AddAsync(PullRequest(1, command: HookEvent.LabelCommand, sender: "maintainer"));
        var reopened = await OpenAsync();
        await reopened.AddAsync(PullRequest(2, needsApproval: true, labelled: true));
        await reopened.AddAsync(PullRequest(3, needsApproval: true, labelled: false));
        await reopened.AddAsync(PullRequest(4) with { RunsIfWriter = ["fork-owner"], ApprovalLabel = true });
        await reopened.AddAsync(PullRequest(4, command: HookEvent.UnlabelCommand, sender: "triager"));
        await reopened.AddAsync(PullRequest(5, needsApproval: true, labelled: true));

        // d3, without the label, waited until d4 superseded it.
        Assert.Equal([("d2", false, "maintainer"), ("d4", false, "fork-owner,maintainer"), ("d5", true, "")],
            reopened.Pending.Select(p => (p.Event.Delivery, p.AwaitingApproval, string.Join(',', p.Event.RunsIfWriter ?? []))));
        var superseded = Assert.Single(reopened.History.Entries);
        Assert.Equal(("d3", Outcome.Skipped, true), (superseded.Event.Delivery, superseded.Outcome, superseded.Event.NeedsApproval));
    }
}
