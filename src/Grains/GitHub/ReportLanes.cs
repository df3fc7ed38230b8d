using System.Threading.Channels;

namespace CiTrigger.Grains.GitHub;

/// <summary>
/// Bounded queues, each drained by its own loop: reports with the same key always take the same lane and so
/// leave in the order they were made, while reports with different keys do not wait for each other (one
/// slow or retried call holds one lane, not every report). A full lane refuses the write (TryWrite on a
/// bounded channel in Wait mode answers false; in DropWrite mode it would answer true and lose the report unseen).
/// </summary>
/// <remarks>
/// With <c>latestOnly</c>, a key waits in its lane at most once: a newer report of a key already waiting takes
/// the older one's place (which the writer gets back, never posted) and is never refused. For a commit status GitHub
/// shows only the newest of a context, so while a lane is behind it posts what is current instead of every
/// step on the way (fewer calls against GitHub's rate limits, a backlog drains faster), and a burst of steps
/// fills a lane by the events in it, not by their steps: a full lane refused an event's final status while
/// its earlier steps still took the room.
/// </remarks>
public sealed class ReportLanes<T>
{
    private readonly Channel<(string Key, T Report)>[] lanes;
    private readonly bool latestOnly;

    // With latestOnly: the report each waiting key will post (its lane holds the key once); guarded by itself.
    private readonly Dictionary<string, T> newest = new(StringComparer.Ordinal);

    /// <param name="count">How many loops call GitHub at once (a few: GitHub asks integrators not to flood it).</param>
    /// <param name="capacity">Reports waiting in all lanes together (with latestOnly: keys waiting).</param>
    /// <param name="latestOnly">A key's newer report replaces its waiting one.</param>
    public ReportLanes(int count, int capacity, bool latestOnly = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        this.latestOnly = latestOnly;
        lanes = [.. Enumerable.Range(0, count).Select(_ => Channel.CreateBounded<(string, T)>(
            new BoundedChannelOptions(Math.Max(1, capacity / count)) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true }))];
    }

    /// <summary>Queues <paramref name="report"/> behind the earlier ones of <paramref name="key"/>; false when its lane is full.</summary>
    public bool TryWrite(string key, T report) => TryWrite(key, report, out _);

    /// <summary>
    /// As <see cref="TryWrite(string, T)"/>; with latestOnly a report whose key is waiting replaces the waiting one,
    /// which <paramref name="replaced"/> gives.
    /// </summary>
    public bool TryWrite(string key, T report, out (bool Any, T Report) replaced)
    {
        replaced = default;
        var lane = lanes[ReportLane.Of(key, lanes.Length)];
        if (!latestOnly)
        {
            return lane.Writer.TryWrite((key, report));
        }

        lock (newest)
        {
            if (newest.TryGetValue(key, out var older))
            {
                newest[key] = report;
                replaced = (true, older);
                return true;
            }

            if (!lane.Writer.TryWrite((key, default!)))
            {
                return false;
            }

            newest[key] = report;
            return true;
        }
    }

    /// <summary>Runs <paramref name="handle"/> on every report, one at a time per lane, until stopped.</summary>
    public Task DrainAsync(Func<T, CancellationToken, Task> handle, CancellationToken stoppingToken) =>
        Task.WhenAll(lanes.Select(async lane =>
        {
            await foreach (var (key, queued) in lane.Reader.ReadAllAsync(stoppingToken))
            {
                var report = queued;
                if (latestOnly)
                {
                    lock (newest)
                    {
                        newest.Remove(key, out report);
                    }
                }

                await handle(report!, stoppingToken);
            }
        }));
}
