using System.Collections.Immutable;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Processing;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.Unit;

public class QueueOrderTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(5);

    private static PendingEvent Push(int before, int after, int acceptedSecond = 0) =>
        new(new HookEvent($"d{after}", "push", "", "o/r", "", "", "refs/heads/main",
            Payloads.Sha(after), before == 0 ? Payloads.ZeroSha : Payloads.Sha(before), "main", false, T0), T0.AddSeconds(acceptedSecond));

    private static PendingEvent Other(string type) =>
        new(new HookEvent("d-" + type, type, "", "o/r", "", "", "refs/heads/main", "", "", "main", type == "delete", T0), T0);

    [Fact]
    public void An_in_chain_head_goes_first() =>
        Assert.Equal(new NextEvent(0, null, false), QueueOrder.Pick([Push(1, 2), Push(2, 3)], Payloads.Sha(1), T0, Window));

    [Fact]
    public void A_ref_with_no_history_never_waits() =>
        Assert.Equal(new NextEvent(0, null, false), QueueOrder.Pick([Push(5, 6)], "", T0, Window));

    [Fact]
    public void A_queued_successor_of_the_chain_goes_before_an_out_of_chain_head() =>
        Assert.Equal(new NextEvent(1, null, false), QueueOrder.Pick([Push(2, 3), Push(1, 2)], Payloads.Sha(1), T0, Window));

    [Fact]
    public void A_queued_predecessor_of_the_head_goes_first_even_without_history() =>
        Assert.Equal(new NextEvent(1, null, false), QueueOrder.Pick([Push(1, 2), Push(0, 1)], "", T0, Window));

    [Fact]
    public void The_earliest_queued_predecessor_goes_first() =>
        Assert.Equal(new NextEvent(2, null, false), QueueOrder.Pick([Push(2, 3), Push(1, 2), Push(0, 1)], "", T0, Window));

    [Fact]
    public void An_out_of_chain_head_waits_until_the_window_closes() =>
        Assert.Equal(new NextEvent(-1, T0.AddSeconds(5), false), QueueOrder.Pick([Push(2, 3)], Payloads.Sha(1), T0.AddSeconds(2), Window));

    [Fact]
    public void After_the_window_an_out_of_chain_head_is_processed_and_marked() =>
        Assert.Equal(new NextEvent(0, null, true), QueueOrder.Pick([Push(2, 3)], Payloads.Sha(1), T0.AddSeconds(5), Window));

    [Fact]
    public void A_queued_predecessor_that_is_itself_out_of_chain_waits_for_the_missing_push() =>
        Assert.Equal(new NextEvent(-1, T0.AddSeconds(5), false),
            QueueOrder.Pick([Push(6, 7), Push(4, 5), Push(5, 6), Push(3, 4)], Payloads.Sha(1), T0.AddSeconds(1), Window));

    [Fact]
    public void The_missing_push_arriving_late_goes_first_and_its_chain_follows()
    {
        ImmutableList<PendingEvent> queue = [Push(6, 7), Push(4, 5), Push(5, 6), Push(3, 4), Push(2, 3, acceptedSecond: 1), Push(1, 2, acceptedSecond: 1)];
        Assert.Equal(new NextEvent(5, null, false), QueueOrder.Pick(queue, Payloads.Sha(1), T0.AddSeconds(1), Window));
        Assert.Equal(new NextEvent(4, null, false), QueueOrder.Pick(queue.RemoveAt(5), Payloads.Sha(2), T0.AddSeconds(1), Window));
    }

    [Fact]
    public void After_the_window_the_chain_resumes_from_its_earliest_queued_push() =>
        Assert.Equal(new NextEvent(3, null, true),
            QueueOrder.Pick([Push(6, 7), Push(4, 5), Push(5, 6), Push(3, 4)], Payloads.Sha(1), T0.AddSeconds(5), Window));

    [Fact]
    public void A_push_creating_the_ref_never_waits() =>
        Assert.Equal(new NextEvent(0, null, false), QueueOrder.Pick([Push(0, 9)], Payloads.Sha(1), T0, Window));

    [Theory]
    [InlineData("delete")]
    [InlineData("check_run")]
    public void Events_other_than_push_never_wait(string type) =>
        Assert.Equal(new NextEvent(0, null, false), QueueOrder.Pick([Other(type)], Payloads.Sha(1), T0, Window));

    [Fact]
    public void An_empty_queue_has_nothing_next() =>
        Assert.Equal(new NextEvent(-1, null, false), QueueOrder.Pick(ImmutableList<PendingEvent>.Empty, "", T0, Window));

    [Fact]
    public void Pushes_advance_the_chain_and_deletes_reset_it()
    {
        Assert.Equal(Payloads.Sha(2), QueueOrder.AdvanceChain(Payloads.Sha(1), Push(1, 2).Event));
        Assert.Equal("", QueueOrder.AdvanceChain(Payloads.Sha(1), Other("delete").Event));
        Assert.Equal(Payloads.Sha(1), QueueOrder.AdvanceChain(Payloads.Sha(1), Other("check_run").Event));
    }
}
