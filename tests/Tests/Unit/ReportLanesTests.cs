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
    public async Task Latest_only_skips_reports_a_newer_one_of_the_same_key_supersedes_while_the_lane_is_behind()
    {
        var lanes = new ReportLanes<string>(1, 100, latestOnly: true);
        var busy = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handled = new ConcurrentQueue<string>();
        var skipped = new ConcurrentQueue<string>();
        using var stop = new CancellationTokenSource();
        var draining = lanes.DrainAsync(async (report, _) =>
        {
            if (report == "busy")
            {
                busy.SetResult();
                await release.Task;
            }

            handled.Enqueue(report);
        }, stop.Token, skipped.Enqueue);

        Assert.True(lanes.TryWrite("other", "busy"));
        await busy.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(lanes.TryWrite("a", "a-pending"));
        Assert.True(lanes.TryWrite("b", "b-pending"));
        Assert.True(lanes.TryWrite("a", "a-running"));
        Assert.True(lanes.TryWrite("a", "a-success"));
        release.SetResult();

        await Eventually.Until(() => handled.Count == 3, TimeSpan.FromSeconds(10), "the current reports");
        Assert.Equal(["busy", "b-pending", "a-success"], handled);
        Assert.Equal(["a-pending", "a-running"], skipped);

        // A lane that caught up posts every report again.
        Assert.True(lanes.TryWrite("a", "a-pending-2"));
        await Eventually.Until(() => handled.Count == 4, TimeSpan.FromSeconds(10), "the next report");
        Assert.True(lanes.TryWrite("a", "a-success-2"));
        await Eventually.Until(() => handled.Count == 5, TimeSpan.FromSeconds(10), "the next report");
        Assert.Equal(["a-pending-2", "a-success-2"], handled.Skip(3));
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => draining);
    }

    [Fact]
    public async Task A_full_lane_refuses_the_write_and_a_refused_report_does_not_make_an_earlier_one_skipped()
    {
        var lanes = new ReportLanes<string>(1, 2, latestOnly: true);
        Assert.True(lanes.TryWrite("x", "x-1"));
        Assert.True(lanes.TryWrite("y", "y-1"));
        Assert.False(lanes.TryWrite("x", "x-2"));

        var handled = new ConcurrentQueue<string>();
        using var stop = new CancellationTokenSource();
        var draining = lanes.DrainAsync((report, _) =>
        {
            handled.Enqueue(report);
            return Task.CompletedTask;
        }, stop.Token);
        await Eventually.Until(() => handled.Count == 2, TimeSpan.FromSeconds(10), "both accepted reports");
        Assert.Equal(["x-1", "y-1"], handled);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => draining);
    }

    private static int Lane(string key, int count) => ReportLane.Of(key, count);
}
