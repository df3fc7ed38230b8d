using System.Collections.Concurrent;
using System.Threading.Channels;

namespace CiTrigger.Grains.GitHub;

/// <summary>
/// Bounded queues, each drained by its own loop: reports with the same key always take the same lane and so
/// leave in the order they were made, while reports with different keys do not wait for each other (one
/// slow or retried call holds one lane, not every report). A full lane refuses the write (TryWrite on a
/// bounded channel in Wait mode answers false; in DropWrite mode it would answer true and lose the report unseen).
/// </summary>
/// <remarks>
/// With <c>latestOnly</c>, a report whose key already has a newer report waiting is skipped: for a commit
/// status GitHub shows only the newest of a context, so while a lane is behind it posts what is current
/// instead of every step on the way (fewer calls against GitHub's rate limits, and a backlog drains faster).
/// </remarks>
public sealed class ReportLanes<T>
{
    private readonly Channel<(string Key, T Report)>[] lanes;
    private readonly bool latestOnly;

    // Reports written and not yet taken, per key (only with latestOnly).
    private readonly ConcurrentDictionary<string, int> waiting = new(StringComparer.Ordinal);

    /// <param name="count">How many loops call GitHub at once (a few: GitHub asks integrators not to flood it).</param>
    /// <param name="capacity">Reports waiting in all lanes together.</param>
    /// <param name="latestOnly">Skip a report when a newer one of the same key is already waiting.</param>
    public ReportLanes(int count, int capacity, bool latestOnly = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        this.latestOnly = latestOnly;
        lanes = [.. Enumerable.Range(0, count).Select(_ => Channel.CreateBounded<(string, T)>(
            new BoundedChannelOptions(Math.Max(1, capacity / count)) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true }))];
    }

    /// <summary>Queues <paramref name="report"/> behind the earlier ones of <paramref name="key"/>; false when its lane is full.</summary>
    public bool TryWrite(string key, T report)
    {
        // Counted before it is written, so a reader that sees the count knows a newer report is on its way.
        if (latestOnly)
        {
            waiting.AddOrUpdate(key, 1, (_, n) => n + 1);
        }

        if (lanes[ReportLane.Of(key, lanes.Length)].Writer.TryWrite((key, report)))
        {
            return true;
        }

        if (latestOnly)
        {
            Taken(key);
        }

        return false;
    }

    /// <summary>
    /// Runs <paramref name="handle"/> on every report, one at a time per lane, until stopped; with latestOnly a
    /// report superseded by a waiting one goes to <paramref name="skipped"/> instead.
    /// </summary>
    public Task DrainAsync(Func<T, CancellationToken, Task> handle, CancellationToken stoppingToken, Action<T>? skipped = null) =>
        Task.WhenAll(lanes.Select(async lane =>
        {
            await foreach (var (key, report) in lane.Reader.ReadAllAsync(stoppingToken))
            {
                if (latestOnly && Taken(key) > 0)
                {
                    skipped?.Invoke(report);
                    continue;
                }

                await handle(report, stoppingToken);
            }
        }));

    /// <summary>One report of <paramref name="key"/> left the lane (or never entered it); how many are still waiting.</summary>
    private int Taken(string key)
    {
        var left = waiting.AddOrUpdate(key, 0, (_, n) => n - 1);
        if (left == 0)
        {
            waiting.TryRemove(new KeyValuePair<string, int>(key, 0));
        }

        return left;
    }
}
