using System.Collections.Concurrent;
using CiTrigger.Grains.GitHub;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.Unit;

public class ReportLanesTests
{
    [Fact]
    public async Task A_held_report_holds_only_its_own_lane_and_each_key_keeps_its_order()
    {
        var lanes = new ReportLanes<string>(4, 100);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handled = new ConcurrentQueue<string>();
        using var stop = new CancellationTokenSource();
        var draining = lanes.DrainAsync(async (report, _) =>
        {
            if (report == "slow-1")
            {
                await release.Task;
            }

            handled.Enqueue(report);
        }, stop.Token);

        Assert.True(lanes.TryWrite("slow", "slow-1"));
        Assert.True(lanes.TryWrite("slow", "slow-2"));
        var others = Enumerable.Range(0, 40).Select(i => $"k{i}").Where(k => Lane(k, 4) != Lane("slow", 4)).Take(3).ToList();
        foreach (var key in others)
        {
            Assert.True(lanes.TryWrite(key, key + "-1"));
            Assert.True(lanes.TryWrite(key, key + "-2"));
        }

        await Eventually.Until(() => handled.Count == 6, TimeSpan.FromSeconds(10), "the other keys' reports");
        Assert.DoesNotContain(handled, h => h.StartsWith("slow", StringComparison.Ordinal));
        release.SetResult();
        await Eventually.Until(() => handled.Count == 8, TimeSpan.FromSeconds(10), "every report");
        foreach (var key in others.Append("slow"))
        {
            Assert.Equal([key + "-1", key + "-2"], handled.Where(h => h.StartsWith(key + "-", StringComparison.Ordinal)));
        }

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => draining);
    }

    [Fact]
    public async Task Latest_only_replaces_a_waiting_report_by_the_newer_one_of_its_key_while_the_lane_is_behind()
    {
        var lanes = new ReportLanes<string>(1, 100, latestOnly: true);
        var busy = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handled = new ConcurrentQueue<string>();
        var skipped = new List<string>();
        using var stop = new CancellationTokenSource();
        var draining = lanes.DrainAsync(async (report, _) =>
        {
            if (report == "busy")
            {
                busy.SetResult();
                await release.Task;
            }

            handled.Enqueue(report);
        }, stop.Token);

        void Write(string key, string report)
        {
            Assert.True(lanes.TryWrite(key, report, out var replaced));
            if (replaced.Any)
            {
                skipped.Add(replaced.Report);
            }
        }

        Write("other", "busy");
        await busy.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Write("a", "a-pending");
        Write("b", "b-pending");
        Write("a", "a-running");
        Write("a", "a-success");
        release.SetResult();

        await Eventually.Until(() => handled.Count == 3, TimeSpan.FromSeconds(10), "the current reports");

        // a's newest report keeps its key's first place in the lane.
        Assert.Equal(["busy", "a-success", "b-pending"], handled);
        Assert.Equal(["a-pending", "a-running"], skipped);

        // A lane that caught up posts every report again.
        Write("a", "a-pending-2");
        await Eventually.Until(() => handled.Count == 4, TimeSpan.FromSeconds(10), "the next report");
        Write("a", "a-success-2");
        await Eventually.Until(() => handled.Count == 5, TimeSpan.FromSeconds(10), "the next report");
        Assert.Equal(["a-pending-2", "a-success-2"], handled.Skip(3));
        Assert.Equal(2, skipped.Count);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => draining);
    }

    [Fact]
    public async Task A_full_lane_refuses_a_new_key_but_never_a_newer_report_of_a_key_already_waiting()
    {
        var lanes = new ReportLanes<string>(1, 2, latestOnly: true);
        Assert.True(lanes.TryWrite("x", "x-1"));
        Assert.True(lanes.TryWrite("y", "y-1"));
        Assert.False(lanes.TryWrite("z", "z-1"));
        Assert.True(lanes.TryWrite("x", "x-2"));

        var handled = new ConcurrentQueue<string>();
        using var stop = new CancellationTokenSource();
        var draining = DrainInto(lanes, handled, stop.Token);
        await Eventually.Until(() => handled.Count == 2, TimeSpan.FromSeconds(10), "both waiting keys");
        Assert.Equal(["x-2", "y-1"], handled);

        // Once the lane has room, the refused key is taken again.
        Assert.True(lanes.TryWrite("z", "z-2"));
        await Eventually.Until(() => handled.Count == 3, TimeSpan.FromSeconds(10), "the new key");
        Assert.Equal("z-2", handled.Last());
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => draining);
    }

    [Fact]
    public async Task Without_latest_only_a_full_lane_refuses_every_write()
    {
        var lanes = new ReportLanes<string>(1, 2);
        Assert.True(lanes.TryWrite("x", "x-1"));
        Assert.True(lanes.TryWrite("x", "x-2"));
        Assert.False(lanes.TryWrite("x", "x-3"));

        var handled = new ConcurrentQueue<string>();
        using var stop = new CancellationTokenSource();
        var draining = DrainInto(lanes, handled, stop.Token);
        await Eventually.Until(() => handled.Count == 2, TimeSpan.FromSeconds(10), "both accepted reports");
        Assert.Equal(["x-1", "x-2"], handled);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => draining);
    }

    private static Task DrainInto(ReportLanes<string> lanes, ConcurrentQueue<string> handled, CancellationToken stop) =>
        lanes.DrainAsync((report, _) =>
        {
            handled.Enqueue(report);
            return Task.CompletedTask;
        }, stop);

    private static int Lane(string key, int count) => ReportLane.Of(key, count);
}
