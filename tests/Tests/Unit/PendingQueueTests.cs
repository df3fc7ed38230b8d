using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Processing;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.Unit;

public class PendingQueueTests
{
    private static readonly GrainId Grain = GrainId.Create("ref", "octo/app:refs/heads/main");

    private static async Task<PendingQueue> Open(MemoryGrainStorage storage)
    {
        var log = new PendingQueue(new MemorySlot<RefQueueIndex>(storage, "queue", Grain), storage, Grain);
        await log.LoadAsync();
        return log;
    }

    private static PendingEvent Event(int n) => HookEvents.Pending(n);

    private static HashSet<string> Ids(params int[] numbers) => [.. numbers.Select(i => $"d{i}")];

    private static IEnumerable<string> Deliveries(PendingQueue log) => log.Pending.Select(p => p.Event.Delivery);

    [Fact]
    public async Task Each_append_writes_one_chunk_of_at_most_sixteen_events_whatever_the_queue_length()
    {
        var storage = new MemoryGrainStorage();
        using var log = await Open(storage);

        for (var i = 0; i < 40; i++)
        {
            await log.AddAsync(Event(i));
        }

        Assert.Equal(40, storage.Writes.Count);
        Assert.Equal(["queue.0", "queue.1", "queue.2"], storage.Records.Keys.Where(k => k.StartsWith("queue.", StringComparison.Ordinal)).Order());
        Assert.All(storage.Records.Where(r => r.Key.StartsWith("queue.", StringComparison.Ordinal)),
            r => Assert.InRange(((RefQueueChunk)r.Value.State).Events.Count, 1, PendingQueue.ChunkSize));
        Assert.Equal(Enumerable.Range(0, 40).Select(i => $"d{i}"), Deliveries(log));
    }

    [Fact]
    public async Task A_reopened_log_has_the_same_events_in_the_same_order()
    {
        var storage = new MemoryGrainStorage();
        using (var log = await Open(storage))
        {
            for (var i = 0; i < 20; i++)
            {
                await log.AddAsync(Event(i));
            }

            await log.ReplaceAsync(Event(3) with { NotBefore = DateTimeOffset.UnixEpoch.AddDays(1) });
            Assert.Equal(2, await log.RemoveAsync(Ids(5, 17, 40)));
        }

        using var reopened = await Open(storage);

        Assert.Equal(Enumerable.Range(0, 20).Where(i => i is not 5 and not 17).Select(i => $"d{i}"), Deliveries(reopened));
        Assert.NotNull(reopened.Pending.Single(p => p.Event.Delivery == "d3").NotBefore);
        Assert.True(reopened.Contains("d3"));
        Assert.False(reopened.Contains("d5"));
    }

    [Fact]
    public async Task Finishing_the_front_retires_its_chunks_index_first_and_keeps_the_tail()
    {
        var storage = new MemoryGrainStorage();
        using var log = await Open(storage);
        for (var i = 0; i < 40; i++)
        {
            await log.AddAsync(Event(i));
        }

        Assert.Equal(32, await log.RemoveAsync(Ids([.. Enumerable.Range(0, 32)])));
        Assert.Equal(0, await log.RemoveAsync(Ids(0, 1)));
        Assert.Equal(8, await log.RemoveAsync(Ids([.. Enumerable.Range(0, 40)])));

        Assert.Empty(log.Pending);
        Assert.Equal(2, ((RefQueueIndex)storage.Records["queue"].State).FirstChunk);
        Assert.Equal(["queue", "queue.2"], storage.Records.Keys.Order());
        await log.AddAsync(Event(99));
        using var reopened = await Open(storage);
        Assert.Equal(["d99"], Deliveries(reopened));
    }

    [Fact]
    public async Task A_crash_between_moving_the_index_and_deleting_a_chunk_loses_nothing()
    {
        var storage = new MemoryGrainStorage { FailClear = name => name == "queue.0" };
        using (var log = await Open(storage))
        {
            for (var i = 0; i < 20; i++)
            {
                await log.AddAsync(Event(i));
            }

            await Assert.ThrowsAsync<IOException>(() => log.RemoveAsync(Ids([.. Enumerable.Range(0, 16)])));
        }

        using var reopened = await Open(storage);

        Assert.Equal(Enumerable.Range(16, 4).Select(i => $"d{i}"), Deliveries(reopened));
    }

    [Fact]
    public async Task A_failed_append_is_taken_back_and_not_pending_even_after_reopening()
    {
        var storage = new MemoryGrainStorage();
        using var log = await Open(storage);
        await log.AddAsync(Event(1));
        storage.FailWrite = _ => true;

        await Assert.ThrowsAsync<IOException>(() => log.AddAsync(Event(2)));
        storage.FailWrite = _ => false;
        await log.AddAsync(Event(3));
        using var reopened = await Open(storage);

        Assert.Equal(["d1", "d3"], Deliveries(log));
        Assert.Equal(["d1", "d3"], Deliveries(reopened));
    }

    [Fact]
    public async Task A_pending_event_is_visible_only_once_its_append_is_stored()
    {
        var storage = new MemoryGrainStorage();
        using var log = await Open(storage);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        storage.WritesHeldUntil = release.Task;

        // The write is held until the count is read: without the hold, the thread pool could finish it first.
        var adding = log.AddAsync(Event(1));
        var visibleWhileWriting = log.Pending.Count;
        release.SetResult();
        await adding;

        Assert.Equal(0, visibleWhileWriting);
        Assert.Single(log.Pending);
    }

    [Fact]
    public async Task Pausing_writes_only_the_index()
    {
        var storage = new MemoryGrainStorage();
        using var log = await Open(storage);
        await log.AddAsync(Event(1));
        storage.Writes.Clear();

        await log.SetPausedAsync(true);
        using var reopened = await Open(storage);

        Assert.Equal(["queue"], storage.Writes);
        Assert.True(reopened.Paused);
    }
}
