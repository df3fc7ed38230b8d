using System.Collections.Immutable;
using CiTrigger.Grains.Abstractions;
using Orleans.Storage;

namespace CiTrigger.Grains.Processing;

/// <summary>
/// A ref's pending events as a durable sequence of chunks, so that what a write costs does not grow with the
/// queue: accepting an event writes only the chunk it lands in (at most <see cref="ChunkSize"/> events),
/// and changing or finishing an event rewrites only its own chunk. A small index (the
/// <c>queue</c> state: pause flag and first live chunk) is written only when a chunk is retired or the
/// ref is paused.
/// </summary>
/// <remarks>
/// Chunks are numbered; the live ones form a contiguous run from <see cref="RefQueueIndex.FirstChunk"/>,
/// which is what activation reads back. Only leading empty chunks are retired, and the index moves past
/// them before their records are deleted, so a crash in between leaves garbage below the run, never a gap
/// in it. The last chunk is kept even when empty: it takes the next event.
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711", Justification = "It is the ref's queue, the word the design and the admin API use.")]
public sealed class PendingQueue : IDisposable
{
    public const int ChunkSize = 16;

    private readonly CoalescingWriter<RefQueueIndex> index;
    private readonly IGrainStorage storage;
    private readonly GrainId grainId;
    private readonly SortedDictionary<long, Chunk> chunks = [];

    // Events whose first write has not completed: stored in their chunk in memory (so writes fold
    // together) but not yet pending, because they may still be taken back.
    private readonly HashSet<PendingEvent> adding = new(ReferenceEqualityComparer.Instance);

    public PendingQueue(IStateSlot<RefQueueIndex> indexSlot, IGrainStorage storage, GrainId grainId)
    {
        index = new CoalescingWriter<RefQueueIndex>(indexSlot);
        this.storage = storage;
        this.grainId = grainId;
    }

    private readonly HashSet<string> deliveries = new(StringComparer.Ordinal);

    /// <summary>The durably stored pending events, in arrival order.</summary>
    public ImmutableList<PendingEvent> Pending { get; private set; } = [];

    /// <summary>Whether a delivery is pending (stored and not finished).</summary>
    public bool Contains(string delivery) => deliveries.Contains(delivery);

    public bool Paused => index.State.Paused;

    /// <summary>Reads the live chunks back after activation.</summary>
    public async Task LoadAsync()
    {
        for (var number = index.State.FirstChunk; ; number++)
        {
            var chunk = new Chunk(storage, grainId, number);
            await chunk.Slot.ReadAsync();
            if (!chunk.Slot.Exists)
            {
                chunk.Dispose();
                break;
            }

            chunks[number] = chunk;
        }

        Pending = [.. chunks.Values.SelectMany(c => c.Writer.State.Events)];
        deliveries.UnionWith(Pending.Select(p => p.Event.Delivery));
    }

    /// <summary>Appends an event and returns once it is stored; on failure it is taken back and the error rethrown.</summary>
    public async Task AddAsync(PendingEvent entry)
    {
        var (number, chunk) = TailWithRoom();
        adding.Add(entry);
        try
        {
            await chunk.Writer.SaveAsync(chunk.Writer.State with { Events = chunk.Writer.State.Events.Add(entry) });
        }
        catch
        {
            chunk.Writer.Replace(chunk.Writer.State with { Events = chunk.Writer.State.Events.Remove(entry) });
            if (chunk.Writer.State.Events.IsEmpty && !chunk.Slot.Exists && chunks.Remove(number))
            {
                chunk.Dispose();
            }

            throw;
        }
        finally
        {
            adding.Remove(entry);
        }

        // Appends come one at a time (the ref grain does not interleave its calls), so the end is arrival order.
        Pending = Pending.Add(entry);
        deliveries.Add(entry.Event.Delivery);
    }

    /// <summary>Replaces the pending event with the same delivery id (a new attempt, a backoff).</summary>
    public Task ReplaceAsync(PendingEvent updated)
    {
        foreach (var chunk in chunks.Values)
        {
            var at = chunk.Writer.State.Events.FindIndex(p => p.Event.Delivery == updated.Event.Delivery);
            if (at >= 0)
            {
                var write = chunk.Writer.SaveAsync(chunk.Writer.State with { Events = chunk.Writer.State.Events.SetItem(at, updated) });
                var position = Pending.FindIndex(p => p.Event.Delivery == updated.Event.Delivery);
                if (position >= 0)
                {
                    Pending = Pending.SetItem(position, updated);
                }

                return write;
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// Removes the pending events with these delivery ids, then retires chunks left empty at the front.
    /// Returns how many were pending. Only the chunks holding them are rewritten.
    /// </summary>
    public async Task<int> RemoveAsync(IReadOnlySet<string> remove)
    {
        var count = remove.Count(deliveries.Contains);
        if (count == 0)
        {
            return 0;
        }

        var writes = new List<Task>();
        var found = 0;
        foreach (var chunk in chunks.Values)
        {
            var events = chunk.Writer.State.Events;
            var remaining = events.RemoveAll(p => !adding.Contains(p) && remove.Contains(p.Event.Delivery));
            if (remaining.Count != events.Count)
            {
                writes.Add(chunk.Writer.SaveAsync(chunk.Writer.State with { Events = remaining }));
                found += events.Count - remaining.Count;
                if (found == count)
                {
                    break;
                }
            }
        }

        // Finished events are nearly always at the front, so this stops early.
        var builder = Pending.ToBuilder();
        var targets = count;
        for (var i = 0; i < builder.Count && targets > 0; i++)
        {
            if (remove.Contains(builder[i].Event.Delivery))
            {
                deliveries.Remove(builder[i].Event.Delivery);
                builder.RemoveAt(i--);
                targets--;
            }
        }

        Pending = builder.ToImmutable();
        await Task.WhenAll(writes);
        await RetireLeadingEmptyChunksAsync();
        return count;
    }

    public Task SetPausedAsync(bool paused) => index.SaveAsync(index.State with { Paused = paused });

    /// <summary>Who added the approval label to the ref's pull request, "" when it is not on it (see <see cref="RefQueueIndex.LabelledBy"/>).</summary>
    public string LabelledBy => index.State.LabelledBy ?? "";

    public Task SetLabelledByAsync(string login) => index.SaveAsync(index.State with { LabelledBy = login });

    public void Dispose()
    {
        index.Dispose();
        foreach (var chunk in chunks.Values)
        {
            chunk.Dispose();
        }
    }

    private (long Number, Chunk Chunk) TailWithRoom()
    {
        if (chunks.Count > 0)
        {
            var (last, tail) = chunks.Last();
            if (tail.Writer.State.Events.Count < ChunkSize)
            {
                return (last, tail);
            }
        }

        var number = chunks.Count > 0 ? chunks.Keys.Last() + 1 : index.State.FirstChunk;
        var chunk = new Chunk(storage, grainId, number);
        chunks[number] = chunk;
        return (number, chunk);
    }

    private async Task RetireLeadingEmptyChunksAsync()
    {
        var retired = chunks.TakeWhile(c => c.Value.Writer.State.Events.IsEmpty).Select(c => c.Key).ToList();
        if (retired.Count == chunks.Count)
        {
            retired.RemoveAt(retired.Count - 1);
        }

        if (retired.Count == 0)
        {
            return;
        }

        await index.SaveAsync(index.State with { FirstChunk = retired[^1] + 1 });
        foreach (var number in retired)
        {
            // Anything added meanwhile goes to the tail, which is never retired.
            if (chunks.Remove(number, out var chunk))
            {
                await chunk.Writer.FlushAsync();
                await chunk.Slot.ClearAsync();
                chunk.Dispose();
            }
        }
    }

    private sealed class Chunk : IDisposable
    {
        public Chunk(IGrainStorage storage, GrainId grainId, long number)
        {
            Slot = new StorageSlot<RefQueueChunk>(storage, $"queue.{number}", grainId);
            Writer = new CoalescingWriter<RefQueueChunk>(Slot);
        }

        public StorageSlot<RefQueueChunk> Slot { get; }

        public CoalescingWriter<RefQueueChunk> Writer { get; }

        public void Dispose() => Writer.Dispose();
    }
}
