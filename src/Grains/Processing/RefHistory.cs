using System.Collections.Immutable;
using CiTrigger.Grains.Abstractions;
using Orleans.Storage;

namespace CiTrigger.Grains.Processing;

/// <summary>
/// A ref's finished events: the bounded history, the set of finished deliveries, and the push chain's
/// last processed commit. Each finished event is a record of its own (<c>log.{n}</c>, numbered in the order
/// events finished), so what finishing an event or a change of its run writes is that one record, whatever the
/// history holds. The index (the <c>log</c> state) is written only when old records are retired, a batch at a time.
/// Finishing an event happens in one order, so a crash anywhere in it loses nothing and runs nothing twice: the
/// delivery id durably in the index, then its record, then the queue. An activation that finds a queued event
/// already in the history drops it.
/// </summary>
/// <remarks>
/// The records form a contiguous run from <see cref="RefHistoryState.FirstRecord"/>, which is what activation
/// reads back. Only leading records no longer kept are retired, and the index moves past them before they are
/// deleted, so a crash in between leaves garbage below the run, never a gap in it. A history stored whole by
/// an earlier version (<see cref="RefHistoryState.History"/>) is moved into records when it is first loaded.
/// </remarks>
public sealed class RefHistory : IDisposable
{
    private readonly CoalescingWriter<RefHistoryState> index;
    private readonly IGrainStorage storage;
    private readonly GrainId grainId;
    private readonly DeliveryIndex deliveries;
    private readonly int size;

    // Every stored record from the first live one, oldest first; the kept ones are also in Entries and byDelivery.
    private readonly List<Record> records = [];
    private readonly Dictionary<string, Record> byDelivery = new(StringComparer.Ordinal);
    private long next;

    public RefHistory(IStateSlot<RefHistoryState> indexSlot, IGrainStorage storage, GrainId grainId, DeliveryIndex deliveries, int size)
    {
        index = new CoalescingWriter<RefHistoryState>(indexSlot);
        (this.storage, this.grainId, this.deliveries, this.size) = (storage, grainId, deliveries, size);
    }

    /// <summary>The kept entries, newest first: the newest <c>size</c>, and older ones that still owe work.</summary>
    public ImmutableList<HistoryEntry> Entries { get; private set; } = [];

    /// <summary>The last processed commit of the ref's push chain ("" when there is none).</summary>
    public string LastAfter { get; private set; } = "";

    /// <summary>Reads the records back after activation, moving a history stored whole into records first.</summary>
    public async Task LoadAsync()
    {
        var first = index.State.FirstRecord;
        for (var number = first; ; number++)
        {
            var record = new Record(storage, grainId, number);
            await record.Slot.ReadAsync();
            if (!record.Slot.Exists)
            {
                record.Dispose();
                break;
            }

            records.Add(record);
        }

        next = first + records.Count;
        if (!index.State.History.IsEmpty)
        {
            await MoveIntoRecordsAsync();
        }

        LastAfter = records.Count > 0 ? records[^1].Writer.State.LastAfter : index.State.LastAfter;
        Keep();
    }

    public bool IsFinished(string delivery) => byDelivery.ContainsKey(delivery);

    public HistoryEntry? Find(string delivery) => byDelivery.TryGetValue(delivery, out var record) ? record.Entry : null;

    /// <summary>Finishes <paramref name="entry"/>'s event; returns how many pending events left the queue.</summary>
    public async Task<int> CompleteAsync(HistoryEntry entry, PendingQueue queue)
    {
        var e = entry.Event;
        await deliveries.RememberAsync(e);
        var lastAfter = QueueOrder.AdvanceChain(LastAfter, e);
        var record = new Record(storage, grainId, next++);
        records.Add(record);
        LastAfter = lastAfter;

        // Finished in memory before the write: should it fail, the event stays queued and is dropped once a later
        // write of the record succeeds (DropFinishedAsync), not applied again by this activation.
        var write = record.Writer.SaveAsync(new RefHistoryRecord { Entry = entry, LastAfter = lastAfter });
        Keep();
        await write;
        await RetireAsync();
        return await queue.RemoveAsync(new HashSet<string>(StringComparer.Ordinal) { e.Delivery });
    }

    /// <summary>The entries whose run is still followed, oldest first.</summary>
    public IEnumerable<HistoryEntry> Running => Entries.Where(IsRunning).Reverse();

    /// <summary>Entries with a run object whose stop the cluster has not confirmed yet.</summary>
    public IEnumerable<HistoryEntry> StopsPending => Entries.Where(OwesStop);

    /// <summary>Whether an entry's run is still followed or still owes a stop (it outlives the bound, and the ref keeps its reminder).</summary>
    public bool OwesWork => Entries.Any(OwesWorkOf);

    /// <summary>
    /// The entries owing work (oldest first) that must be let go before one more run is recorded, so that at
    /// most <c>size</c> entries ever owe work and the history never keeps more than twice its bound.
    /// </summary>
    public IEnumerable<HistoryEntry> OverBound => Entries.Where(OwesWorkOf).Skip(size - 1).Reverse();

    /// <summary>Rewrites the record of the same delivery (its run moved on); an entry no longer kept is left alone.</summary>
    public async Task UpdateAsync(HistoryEntry entry)
    {
        if (!byDelivery.TryGetValue(entry.Event.Delivery, out var record))
        {
            return;
        }

        var write = record.Writer.SaveAsync(record.Writer.State with { Entry = entry });
        Keep();
        await write;
    }

    /// <summary>
    /// Drops queued events whose completion is already in the history (a crash between the record's write
    /// and the queue write leaves them behind); returns how many.
    /// </summary>
    public async Task<int> DropFinishedAsync(PendingQueue queue)
    {
        // Asked before every pick of the drain, and nearly always answered no: nothing is allocated then.
        if (!byDelivery.Keys.Any(queue.Contains))
        {
            return 0;
        }

        var finished = byDelivery.Keys.Where(queue.Contains).ToHashSet(StringComparer.Ordinal);

        foreach (var delivery in finished)
        {
            await byDelivery[delivery].Writer.FlushAsync();
        }

        return await queue.RemoveAsync(finished);
    }

    public void Dispose()
    {
        index.Dispose();
        foreach (var record in records)
        {
            record.Dispose();
        }
    }

    private static bool IsRunning(HistoryEntry h) => h.Run is { FinishedAt: null };

    private static bool OwesWorkOf(HistoryEntry h) => IsRunning(h) || OwesStop(h);

    private static bool OwesStop(HistoryEntry h) => h.Run is { } run && RunBook.ToStop(run).Any();

    /// <summary>
    /// Works out what is kept: the newest <c>size</c> entries, and older ones whose run is still followed or still
    /// has a stop to send (the run's result is reported, and its stop sent, from its entry, so it must outlive the
    /// bound until then).
    /// </summary>
    private void Keep()
    {
        var kept = ImmutableList.CreateBuilder<HistoryEntry>();
        byDelivery.Clear();
        for (var i = records.Count - 1; i >= 0; i--)
        {
            var record = records[i];
            record.Kept = kept.Count < size || OwesWorkOf(record.Entry);
            if (record.Kept)
            {
                kept.Add(record.Entry);
                byDelivery[record.Entry.Event.Delivery] = record;
            }
        }

        Entries = kept.ToImmutable();
    }

    /// <summary>
    /// Deletes the leading records no longer kept once there are <c>size</c> of them (so the index is written once
    /// per <c>size</c> events). A failure leaves them for the next time: the event has finished either way.
    /// </summary>
    private async Task RetireAsync()
    {
        var retired = records.TakeWhile(r => !r.Kept).Count();
        if (retired < Math.Max(size, 1))
        {
            return;
        }

        var gone = records.GetRange(0, retired);
        try
        {
            await index.SaveAsync(index.State with { FirstRecord = gone[^1].Number + 1, LastAfter = LastAfter });
        }
        catch (Exception)
        {
            return;
        }

        records.RemoveRange(0, retired);
        foreach (var record in gone)
        {
            try
            {
                await record.Writer.FlushAsync();
                await record.Slot.ClearAsync();
            }
            catch (Exception)
            {
                // Below the index now: never read again, only left behind.
            }
            finally
            {
                record.Dispose();
            }
        }
    }

    /// <summary>
    /// A history an earlier version stored whole, oldest entry first, becomes records 0.. (over records an
    /// interrupted earlier move left, which the load read); then the index forgets the whole copy.
    /// </summary>
    private async Task MoveIntoRecordsAsync()
    {
        var legacy = index.State;
        var entries = legacy.History.Reverse().ToList();
        for (var i = 0; i < entries.Count; i++)
        {
            Record record;
            if (i < records.Count)
            {
                record = records[i];
            }
            else
            {
                record = new Record(storage, grainId, legacy.FirstRecord + i);
                records.Add(record);
            }

            await record.Writer.SaveAsync(new RefHistoryRecord { Entry = entries[i], LastAfter = legacy.LastAfter });
        }

        next = Math.Max(next, legacy.FirstRecord + entries.Count);
        await index.SaveAsync(legacy with { History = [] });
    }

    private sealed class Record : IDisposable
    {
        public Record(IGrainStorage storage, GrainId grainId, long number)
        {
            Number = number;
            Slot = new StorageSlot<RefHistoryRecord>(storage, $"{RefStores.HistoryName}.{number}", grainId);
            Writer = new CoalescingWriter<RefHistoryRecord>(Slot);
        }

        public long Number { get; }

        public StorageSlot<RefHistoryRecord> Slot { get; }

        public CoalescingWriter<RefHistoryRecord> Writer { get; }

        public HistoryEntry Entry => Writer.State.Entry!;

        /// <summary>Whether the history keeps it (see <see cref="Keep"/>).</summary>
        public bool Kept { get; set; }

        public void Dispose() => Writer.Dispose();
    }
}
