using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Pipeline;
using CiTrigger.Grains.Processing;
using CiTrigger.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using Xunit;
using RefReruns = CiTrigger.Grains.Processing.Reruns;

namespace CiTrigger.Tests.Unit;

public sealed class RerunsTests : IDisposable
{
    private static readonly DateTimeOffset Now = MemoryRef.Now;
    private static readonly AppliedObject Workflow = new("argoproj.io/v1alpha1", "Workflow", "ci", "ci-x7k2p", "created");

    private readonly MemoryRef memory = new();
    private readonly MemoryRefCatalog catalog;
    private readonly FakeTimeProvider time;
    private readonly RecordingStatuses statuses;
    private int reminders;

    public RerunsTests() => (catalog, time, statuses) = (memory.Catalog, memory.Time, memory.Statuses);

    public void Dispose() => memory.Dispose();

    private async Task<(RefEvents Events, RefReruns Reruns)> OpenAsync(int maxQueueLength = 10)
    {
        var retry = new RetryPolicy(1, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1), new Random(7));
        var parts = await memory.OpenAsync(memory.Services(retry, queue: new QueueOptions { MaxQueueLength = maxQueueLength }));
        return (parts.Events, parts.Reruns);
    }

    private Task Hold()
    {
        reminders++;
        return Task.CompletedTask;
    }

    /// <summary>Queues <paramref name="e"/> and finishes it as <paramref name="outcome"/>.</summary>
    private static async Task FinishAsync(RefEvents events, HookEvent e, Outcome outcome = Outcome.Applied)
    {
        await events.AddAsync(e);
        var entry = events.Pending.Single(p => p.Event.Delivery == e.Delivery);
        await events.CompleteAsync(entry, outcome, outcome == Outcome.Applied ? null : "manifest .ci/workflow.yaml not found", outcome == Outcome.Applied ? [Workflow] : [], outOfChain: false);
    }

    private RerunRequest Of(string delivery, string? askedBy = null) => new(delivery, "", time.GetUtcNow(), askedBy);

    [Fact]
    public async Task A_finished_event_is_queued_again_with_the_same_fields_under_its_first_rerun_id()
    {
        var (events, reruns) = await OpenAsync();
        var original = HookEvents.Push(1) with { InstallationId = 41 };
        await FinishAsync(events, original, Outcome.Failed);
        time.Advance(TimeSpan.FromMinutes(5));

        var result = await reruns.RunAsync(Of("d1"), Hold);

        Assert.Equal((RerunStatus.Queued, "d1-rerun-1", "d1"), (result.Status, result.Delivery, result.RerunOf));
        var copy = Assert.Single(events.Pending).Event;
        Assert.Equal(original with { Delivery = "d1-rerun-1", RerunOf = "d1", ReceivedAt = Now + TimeSpan.FromMinutes(5) }, copy);
        Assert.Equal(1, reminders);
        Assert.Equal("octo/app:refs/heads/main", await catalog.FindDeliveryAsync("d1-rerun-1"));
        Assert.Equal(("d1-rerun-1", StatusState.Pending, "queued (re-run of d1)"), statuses.Reported[^1]);
    }

    [Fact]
    public async Task Rerun_ids_count_up_from_the_original_delivery_also_when_a_rerun_is_run_again()
    {
        var (events, reruns) = await OpenAsync();
        await FinishAsync(events, HookEvents.Push(1));

        Assert.Equal("d1-rerun-1", (await reruns.RunAsync(Of("d1"), Hold)).Delivery);
        await events.CompleteAsync(events.Pending[0], Outcome.Applied, null, [Workflow], outOfChain: false);
        var second = await reruns.RunAsync(Of("d1-rerun-1"), Hold);

        Assert.Equal((RerunStatus.Queued, "d1-rerun-2", "d1-rerun-1"), (second.Status, second.Delivery, second.RerunOf));
        Assert.Equal("d1-rerun-1", events.Pending[0].Event.RerunOf);
    }

    [Fact]
    public async Task A_delivery_still_queued_has_nothing_to_rerun_and_an_unknown_one_is_unknown()
    {
        var (events, reruns) = await OpenAsync();
        await events.AddAsync(HookEvents.Push(1));

        Assert.Equal(RerunStatus.Unfinished, (await reruns.RunAsync(Of("d1"), Hold)).Status);
        Assert.Equal(RerunStatus.Unknown, (await reruns.RunAsync(Of("d9"), Hold)).Status);
        Assert.Single(events.Pending);
        Assert.Equal(0, reminders);
    }

    [Fact]
    public async Task Without_a_delivery_the_newest_finished_event_at_the_revision_is_run_again()
    {
        var (events, reruns) = await OpenAsync();
        await FinishAsync(events, HookEvents.Push(1));
        await FinishAsync(events, HookEvents.Push(2));
        await FinishAsync(events, HookEvents.Push(1) with { Delivery = "d1-again", EventType = "check_suite", Action = "requested", Before = "" });

        var result = await reruns.RunAsync(new RerunRequest(null, HookEvents.Sha(1), Now, "asked-1"), Hold);
        var none = await reruns.RunAsync(new RerunRequest(null, HookEvents.Sha(7), Now, "asked-2"), Hold);

        Assert.Equal((RerunStatus.Queued, "d1-again-rerun-1", "d1-again"), (result.Status, result.Delivery, result.RerunOf));
        Assert.Equal(RerunStatus.Unknown, none.Status);
        Assert.Null(await catalog.FindDeliveryAsync("asked-2"));
    }

    [Fact]
    public async Task The_webhook_that_asked_is_remembered_so_its_redelivery_reruns_nothing_twice()
    {
        var (events, reruns) = await OpenAsync();
        await FinishAsync(events, HookEvents.Push(1));

        var first = await reruns.RunAsync(Of("d1", askedBy: "gh-7"), Hold);
        var again = await reruns.RunAsync(Of("d1", askedBy: "gh-7"), Hold);

        Assert.Equal((RerunStatus.Queued, RerunStatus.Duplicate), (first.Status, again.Status));
        Assert.Single(events.Pending);
        Assert.Equal(HookEvents.Key, await catalog.FindDeliveryAsync("gh-7"));
    }

    [Fact]
    public async Task A_full_queue_takes_no_rerun()
    {
        var (events, reruns) = await OpenAsync(maxQueueLength: 1);
        await FinishAsync(events, HookEvents.Push(1));
        await events.AddAsync(HookEvents.Push(2));

        Assert.Equal(RerunStatus.Full, (await reruns.RunAsync(Of("d1"), Hold)).Status);
        Assert.Single(events.Pending);
    }

    [Fact]
    public async Task A_pull_request_event_held_for_approval_runs_without_approval_when_re_run()
    {
        var (events, reruns) = await OpenAsync();
        var held = HookEvents.Push(1) with { EventType = "pull_request", Action = "opened", Ref = "refs/pull/4/head", PullRequest = 4, NeedsApproval = true };
        await events.AddAsync(held);
        await events.CompleteAsync(events.Pending[0], Outcome.Skipped, "superseded", [], outOfChain: false);

        await reruns.RunAsync(Of("d1"), Hold);

        Assert.False(Assert.Single(events.Pending).AwaitingApproval);
        Assert.Equal("d1-rerun-1", (await events.NextAsync(TimeSpan.Zero)).Entry?.Event.Delivery);
    }

    [Fact]
    public async Task A_rerun_of_an_old_push_neither_waits_for_a_predecessor_nor_moves_the_chain_back()
    {
        var (events, reruns) = await OpenAsync();
        await FinishAsync(events, HookEvents.Push(1));
        await FinishAsync(events, HookEvents.Push(2));

        await reruns.RunAsync(Of("d1"), Hold);
        var next = await events.NextAsync(TimeSpan.FromMinutes(1));
        await events.RecordAsync(next.Entry!, new AttemptResult([Workflow], null, new AttemptRecord(Now, TimeSpan.FromSeconds(1), null, false)), next.OutOfChain);

        Assert.Equal(("d1-rerun-1", false), (next.Entry?.Event.Delivery, next.OutOfChain));
        Assert.Equal(HookEvents.Sha(2), events.History.LastAfter);
    }

    [Theory]
    [InlineData("9a0e6d1c-1f2b-11f0-8a51-6f5c1b2e4d3a", "rerun", "9a0e6d1c-1f2b-11f0-8a51-6f5c1b2e4d3a")]
    [InlineData("9a0e6d1c-1f2b-11f0-8a51-6f5c1b2e4d3a-rerun-12", "rerun", "9a0e6d1c-1f2b-11f0-8a51-6f5c1b2e4d3a")]
    [InlineData("d1-rerun-x", "rerun", "d1-rerun-x")]
    [InlineData("d1-retest-2", "rerun", "d1-retest-2")]
    [InlineData("d1-retest-2", "retest", "d1")]
    public void A_derived_id_names_the_delivery_it_came_from(string delivery, string kind, string root) =>
        Assert.Equal(root, DerivedDeliveryId.Root(delivery, kind));

    [Fact]
    public async Task A_derived_id_is_always_a_valid_label_value_even_for_the_longest_delivery_ids()
    {
        var guid = "9a0e6d1c-1f2b-11f0-8a51-6f5c1b2e4d3a";
        var longest = new string('a', 63);
        var taken = new HashSet<string> { $"{guid}-rerun-1" };

        var next = await DerivedDeliveryId.NextAsync(guid, "rerun", id => Task.FromResult(taken.Contains(id)));
        var hashed = await DerivedDeliveryId.NextAsync(longest, "rerun", _ => Task.FromResult(false));

        Assert.Equal($"{guid}-rerun-2", next);
        Assert.True(Names.IsDeliveryId(next));
        Assert.StartsWith("rerun-1-", hashed, StringComparison.Ordinal);
        Assert.True(Names.IsDeliveryId(hashed));
    }
}
