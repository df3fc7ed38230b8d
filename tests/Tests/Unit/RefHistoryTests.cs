using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Processing;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.Unit;

public class RefHistoryTests
{
    /// <summary>One activation's queue, delivery index and history, built as the ref grain builds them, over stores that outlive it.</summary>
    private sealed class Activation : IDisposable
    {
        private readonly MemoryRef memory;
        private readonly RefParts parts;

        private Activation(MemoryRef memory, RefParts parts) => (this.memory, this.parts) = (memory, parts);

        public PendingQueue Queue => parts.Queue;

        public DeliveryIndex Deliveries => parts.Deliveries;

        public RefHistory History => parts.History;

        public static async Task<Activation> StartAsync(MemoryGrainStorage storage, MemoryRefCatalog catalog, int size = 20)
        {
            var memory = new MemoryRef(storage, catalog);
            return new Activation(memory, await memory.OpenAsync(memory.Services(queue: new QueueOptions { HistorySize = size })));
        }

        public Task<int> CompleteAsync(HookEvent e) =>
            History.CompleteAsync(new HistoryEntry(e, Outcome.Applied, null, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, [], [], false), Queue);

        public void Dispose() => memory.Dispose();
    }

    private static (MemoryGrainStorage Storage, MemoryRefCatalog Catalog, Journal Journal) Stores()
    {
        var journal = new Journal();
        return (new MemoryGrainStorage(journal), new MemoryRefCatalog(journal), journal);
    }

    [Fact]
    public async Task Finishing_an_event_records_its_delivery_then_writes_the_history_then_the_queue()
    {
        var (storage, catalog, journal) = Stores();
        using var activation = await Activation.StartAsync(storage, catalog);
        await activation.Queue.AddAsync(HookEvents.Pending(1));
        journal.Clear();

        var removed = await activation.CompleteAsync(HookEvents.Push(1));

        Assert.Equal(1, removed);
        Assert.Equal(["delivery d1", "write log.0", "write queue.0"], journal.Entries);
        Assert.True(activation.History.IsFinished("d1"));
        Assert.False(activation.Queue.Contains("d1"));
        Assert.Equal("d1", activation.History.Find("d1")!.Event.Delivery);
    }

    [Fact]
    public async Task When_the_delivery_cannot_be_recorded_neither_history_nor_queue_changes()
    {
        var (storage, catalog, journal) = Stores();
        using var activation = await Activation.StartAsync(storage, catalog);
        await activation.Queue.AddAsync(HookEvents.Pending(1));
        journal.Clear();
        catalog.FailDelivery = _ => true;

        await Assert.ThrowsAsync<IOException>(() => activation.CompleteAsync(HookEvents.Push(1)));

        Assert.Empty(journal.Entries);
        Assert.False(activation.History.IsFinished("d1"));
        Assert.Empty(activation.History.Entries);
        Assert.True(activation.Queue.Contains("d1"));
    }

    [Fact]
    public async Task When_the_history_write_fails_the_event_stays_queued_until_the_history_is_written()
    {
        var (storage, catalog, journal) = Stores();
        using var activation = await Activation.StartAsync(storage, catalog);
        await activation.Queue.AddAsync(HookEvents.Pending(1));
        storage.FailWrite = name => name.StartsWith("log.", StringComparison.Ordinal);

        await Assert.ThrowsAsync<IOException>(() => activation.CompleteAsync(HookEvents.Push(1)));
        using (var meanwhile = await Activation.StartAsync(storage, catalog))
        {
            Assert.True(meanwhile.Queue.Contains("d1"));
            Assert.False(meanwhile.History.IsFinished("d1"));
        }

        storage.FailWrite = _ => false;
        journal.Clear();
        var dropped = await activation.History.DropFinishedAsync(activation.Queue);

        Assert.Equal(1, dropped);
        Assert.Equal(["write log.0", "write queue.0"], journal.Entries);
        using var later = await Activation.StartAsync(storage, catalog);
        Assert.True(later.History.IsFinished("d1"));
        Assert.False(later.Queue.Contains("d1"));
    }

    [Fact]
    public async Task An_event_finished_in_the_history_but_left_in_the_queue_by_a_crash_is_dropped_by_the_next_activation()
    {
        var (storage, catalog, journal) = Stores();
        using (var crashed = await Activation.StartAsync(storage, catalog))
        {
            await crashed.Queue.AddAsync(HookEvents.Pending(1));
            await crashed.Queue.AddAsync(HookEvents.Pending(2));
            storage.FailWrite = name => name == "queue.0";
            await Assert.ThrowsAsync<IOException>(() => crashed.CompleteAsync(HookEvents.Push(1)));
            storage.FailWrite = _ => false;
        }

        using var next = await Activation.StartAsync(storage, catalog);
        Assert.True(next.Queue.Contains("d1"));
        journal.Clear();
        var dropped = await next.History.DropFinishedAsync(next.Queue);

        Assert.Equal(1, dropped);
        Assert.Equal(["write queue.0"], journal.Entries);
        Assert.Equal(["d2"], next.Queue.Pending.Select(p => p.Event.Delivery));
        Assert.Equal(0, await next.History.DropFinishedAsync(next.Queue));
    }

    [Fact]
    public async Task The_history_keeps_the_newest_entries_up_to_its_size_and_only_those_count_as_finished_in_memory()
    {
        var (storage, catalog, _) = Stores();
        using (var activation = await Activation.StartAsync(storage, catalog, size: 3))
        {
            for (var n = 0; n < 5; n++)
            {
                await activation.Queue.AddAsync(HookEvents.Pending(n));
                await activation.CompleteAsync(HookEvents.Push(n));
            }

            Assert.Equal(["d4", "d3", "d2"], activation.History.Entries.Select(h => h.Event.Delivery));
            Assert.False(activation.History.IsFinished("d1"));
            Assert.True(activation.History.IsFinished("d2"));
        }

        using var reopened = await Activation.StartAsync(storage, catalog, size: 3);
        Assert.Equal(["d4", "d3", "d2"], reopened.History.Entries.Select(h => h.Event.Delivery));
        Assert.Equal(["d0", "d1", "d2", "d3", "d4"], catalog.Deliveries.Keys.Order(StringComparer.Ordinal));
        Assert.True(await reopened.Deliveries.IsKnownAsync("d0"));
    }

    [Fact]
    public async Task The_push_chain_moves_with_each_finished_push_and_a_delete_ends_it()
    {
        var (storage, catalog, _) = Stores();
        using var activation = await Activation.StartAsync(storage, catalog);
        Assert.Equal("", activation.History.LastAfter);

        await activation.CompleteAsync(HookEvents.Push(0));
        await activation.CompleteAsync(HookEvents.Push(1));
        Assert.Equal(HookEvents.Sha(1), activation.History.LastAfter);
        using (var reopened = await Activation.StartAsync(storage, catalog))
        {
            Assert.Equal(HookEvents.Sha(1), reopened.History.LastAfter);
        }

        await activation.CompleteAsync(HookEvents.Push(2) with { Delivery = "gone", EventType = "delete", Revision = "", RefDeleted = true });
        Assert.Equal("", activation.History.LastAfter);
    }

    [Fact]
    public async Task A_delivery_recorded_when_it_was_queued_is_not_recorded_again_when_it_finishes()
    {
        var (storage, catalog, journal) = Stores();
        using var activation = await Activation.StartAsync(storage, catalog);
        await activation.Deliveries.StoreAsync(HookEvents.Push(1), () => activation.Queue.AddAsync(HookEvents.Pending(1)));

        await activation.CompleteAsync(HookEvents.Push(1));

        Assert.Single(journal.Entries, e => e == "delivery d1");
    }

    [Fact]
    public async Task A_delivery_whose_record_failed_when_it_was_queued_is_recorded_before_its_event_finishes()
    {
        var (storage, catalog, journal) = Stores();
        using var activation = await Activation.StartAsync(storage, catalog);
        var failures = 1;
        catalog.FailDelivery = _ => failures-- > 0;
        await Assert.ThrowsAsync<IOException>(() => activation.Deliveries.StoreAsync(HookEvents.Push(1), () => activation.Queue.AddAsync(HookEvents.Pending(1))));
        Assert.True(activation.Queue.Contains("d1"), "the event stays stored when only its record failed");
        journal.Clear();

        await activation.CompleteAsync(HookEvents.Push(1));

        Assert.Equal(["delivery d1", "write log.0", "write queue.0"], journal.Entries);
        Assert.Equal(-1, failures);
    }

    [Fact]
    public async Task Finishing_an_event_writes_its_own_record_whatever_the_history_holds_and_old_records_retire_in_batches()
    {
        var (storage, catalog, journal) = Stores();
        using var activation = await Activation.StartAsync(storage, catalog, size: 4);
        var writesPerEvent = new List<string[]>();
        for (var n = 0; n < 20; n++)
        {
            await activation.Queue.AddAsync(HookEvents.Pending(n));
            journal.Clear();
            await activation.CompleteAsync(HookEvents.Push(n));
            writesPerEvent.Add([.. journal.Entries.Where(e => e.StartsWith("write log", StringComparison.Ordinal) || e.StartsWith("clear log", StringComparison.Ordinal))]);
        }

        // Event n writes record n only; every 4 events (once 4 records beyond the kept 4 lie before them) the index
        // moves past 4 records, which are then deleted.
        for (var n = 0; n < 20; n++)
        {
            string[] retire = n >= 7 && (n - 7) % 4 == 0
                ? ["write log", .. Enumerable.Range(n - 7, 4).Select(r => $"clear log.{r}")]
                : [];
            Assert.Equal([$"write log.{n}", .. retire], writesPerEvent[n]);
        }

        Assert.Equal(["d19", "d18", "d17", "d16"], activation.History.Entries.Select(h => h.Event.Delivery));
        Assert.Equal(Enumerable.Range(16, 4).Select(r => $"log.{r}"), storage.Records.Keys.Where(k => k.StartsWith("log.", StringComparison.Ordinal)).OrderBy(k => int.Parse(k[4..], System.Globalization.CultureInfo.InvariantCulture)));

        using var reopened = await Activation.StartAsync(storage, catalog, size: 4);
        Assert.Equal(["d19", "d18", "d17", "d16"], reopened.History.Entries.Select(h => h.Event.Delivery));
        Assert.Equal(HookEvents.Sha(19), reopened.History.LastAfter);
        Assert.False(reopened.History.IsFinished("d15"));
    }

    [Fact]
    public async Task A_change_of_an_entry_rewrites_its_record_only()
    {
        var (storage, catalog, journal) = Stores();
        using var activation = await Activation.StartAsync(storage, catalog, size: 4);
        for (var n = 0; n < 3; n++)
        {
            await activation.Queue.AddAsync(HookEvents.Pending(n));
            await activation.CompleteAsync(HookEvents.Push(n));
        }

        journal.Clear();
        var changed = activation.History.Find("d1")! with { Error = "changed" };
        await activation.History.UpdateAsync(changed);

        Assert.Equal(["write log.1"], journal.Entries);
        using var reopened = await Activation.StartAsync(storage, catalog, size: 4);
        Assert.Equal("changed", reopened.History.Find("d1")!.Error);
        Assert.Equal(["d2", "d1", "d0"], reopened.History.Entries.Select(h => h.Event.Delivery));
    }

    [Fact]
    public async Task An_entry_that_still_owes_work_outlives_the_bound_across_activations_and_keeps_its_record()
    {
        var (storage, catalog, _) = Stores();
        var running = new RunRecord(RunResult.Running, DateTimeOffset.UnixEpoch, null, [new RunObjectRecord("argoproj.io/v1alpha1", "Workflow", "ci", "w0", RunResult.Running)]);
        using (var activation = await Activation.StartAsync(storage, catalog, size: 2))
        {
            await activation.Queue.AddAsync(HookEvents.Pending(0));
            await activation.History.CompleteAsync(
                new HistoryEntry(HookEvents.Push(0), Outcome.Applied, null, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, [], [], false) { Run = running },
                activation.Queue);
            for (var n = 1; n < 8; n++)
            {
                await activation.Queue.AddAsync(HookEvents.Pending(n));
                await activation.CompleteAsync(HookEvents.Push(n));
            }

            Assert.Equal(["d7", "d6", "d0"], activation.History.Entries.Select(h => h.Event.Delivery));
        }

        using var reopened = await Activation.StartAsync(storage, catalog, size: 2);
        Assert.Equal(["d7", "d6", "d0"], reopened.History.Entries.Select(h => h.Event.Delivery));
        Assert.Equal(["d0"], reopened.History.Running.Select(h => h.Event.Delivery));
        Assert.True(storage.Records.ContainsKey("log.0"), "the running entry's record is kept");
    }

    [Fact]
    public async Task A_history_stored_whole_by_an_earlier_version_is_moved_into_records_and_reads_the_same()
    {
        var (storage, catalog, journal) = Stores();
        var entries = Enumerable.Range(0, 3).Reverse()
            .Select(n => new HistoryEntry(HookEvents.Push(n), Outcome.Applied, null, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, [], [], false))
            .ToList();
        storage.Records[RefStores.HistoryName] = (new RefHistoryState { History = [.. entries], LastAfter = HookEvents.Sha(2) }, "old");

        using (var activation = await Activation.StartAsync(storage, catalog))
        {
            Assert.Equal(["d2", "d1", "d0"], activation.History.Entries.Select(h => h.Event.Delivery));
            Assert.Equal(HookEvents.Sha(2), activation.History.LastAfter);
            Assert.Equal(["write log.0", "write log.1", "write log.2", "write log"], journal.Entries.Where(e => e.StartsWith("write", StringComparison.Ordinal)));
            Assert.Empty(((RefHistoryState)storage.Records[RefStores.HistoryName].State).History);

            await activation.Queue.AddAsync(HookEvents.Pending(3));
            await activation.CompleteAsync(HookEvents.Push(3));
        }

        using var reopened = await Activation.StartAsync(storage, catalog);
        Assert.Equal(["d3", "d2", "d1", "d0"], reopened.History.Entries.Select(h => h.Event.Delivery));
        Assert.Equal(HookEvents.Sha(3), reopened.History.LastAfter);
    }

    [Theory]
    [InlineData(10)]
    [InlineData(1000)]
    public async Task A_ref_with_a_long_history_writes_as_much_per_finished_event_as_one_with_a_short_one(int size)
    {
        var (storage, catalog, journal) = Stores();
        using var activation = await Activation.StartAsync(storage, catalog, size);
        for (var n = 0; n < size; n++)
        {
            await activation.Queue.AddAsync(HookEvents.Pending(n));
            await activation.CompleteAsync(HookEvents.Push(n));
        }

        Assert.Equal(size, activation.History.Entries.Count);
        await activation.Queue.AddAsync(HookEvents.Pending(size));
        journal.Clear();
        await activation.CompleteAsync(HookEvents.Push(size));

        // One record of one entry, then the queue: nothing that holds the other entries is written.
        Assert.Equal([$"delivery d{size}", $"write log.{size}", "write queue.0"], journal.Entries);
        var written = (RefHistoryRecord)storage.Records[$"log.{size}"].State;
        Assert.Equal($"d{size}", written.Entry!.Event.Delivery);
    }
}
