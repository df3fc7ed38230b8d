using System.Collections.Immutable;
using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Grains.Processing;

/// <summary>
/// A ref's finished events: the bounded history, the set of finished deliveries, and the push chain's
/// last processed commit. Finishing an event happens in one order, so a crash anywhere in it loses
/// nothing and runs nothing twice: the delivery id durably in the index, then the history, then the
/// queue. An activation that finds a queued event already in the history drops it.
/// </summary>
public sealed class RefHistory(IStateSlot<RefHistoryState> slot, DeliveryIndex deliveries, int size) : IDisposable
{
    private readonly CoalescingWriter<RefHistoryState> writer = new(slot);
    private readonly HashSet<string> finished = new(StringComparer.Ordinal);

    public ImmutableList<HistoryEntry> Entries => writer.State.History;

    /// <summary>The last processed commit of the ref's push chain ("" when there is none).</summary>
    public string LastAfter => writer.State.LastAfter;

    /// <summary>Reads the finished set from the stored history; call once the state is loaded.</summary>
    public void Load() => finished.UnionWith(Entries.Select(h => h.Event.Delivery));

    public bool IsFinished(string delivery) => finished.Contains(delivery);

    public HistoryEntry? Find(string delivery) => Entries.Find(h => h.Event.Delivery == delivery);

    /// <summary>Finishes <paramref name="record"/>'s event; returns how many pending events left the queue.</summary>
    public async Task<int> CompleteAsync(HistoryEntry record, PendingQueue queue)
    {
        var e = record.Event;
        await deliveries.RememberAsync(e);
        var current = writer.State;
        var history = Trim(current.History.Insert(0, record));
        finished.Clear();
        finished.UnionWith(history.Select(h => h.Event.Delivery));
        await writer.SaveAsync(current with { History = history, LastAfter = QueueOrder.AdvanceChain(current.LastAfter, e) });
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
    /// most <c>size</c> entries ever owe work and the history never holds more than twice its bound.
    /// </summary>
    public IEnumerable<HistoryEntry> OverBound => Entries.Where(OwesWorkOf).Skip(size - 1).Reverse();

    /// <summary>Replaces the entry of the same delivery (its run moved on); an entry no longer kept is left alone.</summary>
    public async Task UpdateAsync(HistoryEntry entry)
    {
        var current = writer.State;
        var index = current.History.FindIndex(h => h.Event.Delivery == entry.Event.Delivery);
        if (index >= 0)
        {
            await writer.SaveAsync(current with { History = Trim(current.History.SetItem(index, entry)) });
        }
    }

    /// <summary>
    /// The newest <c>size</c> entries, and older ones whose run is still followed or still has a stop to send:
    /// the run's result is reported (and its stop sent) from its entry, so it must outlive the bound until then.
    /// </summary>
    private ImmutableList<HistoryEntry> Trim(ImmutableList<HistoryEntry> history) =>
        history.Count <= size ? history : [.. history.Where((h, i) => i < size || IsRunning(h) || OwesStop(h))];

    private static bool IsRunning(HistoryEntry h) => h.Run is { FinishedAt: null };

    private static bool OwesWorkOf(HistoryEntry h) => IsRunning(h) || OwesStop(h);

    private static bool OwesStop(HistoryEntry h) => h.Run is { } run && RunBook.ToStop(run).Any();

    /// <summary>
    /// Drops queued events whose completion is already in the history (a crash between the history write
    /// and the queue write leaves them behind); returns how many.
    /// </summary>
    public async Task<int> DropFinishedAsync(PendingQueue queue)
    {
        if (!finished.Any(queue.Contains))
        {
            return 0;
        }

        await writer.FlushAsync();
        return await queue.RemoveAsync(finished);
    }

    public void Dispose() => writer.Dispose();
}
