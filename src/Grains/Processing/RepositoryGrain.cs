using System.Collections.Immutable;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Storage;
using Microsoft.Extensions.Logging;

namespace CiTrigger.Grains.Processing;

[GenerateSerializer]
public sealed class RepositoryState
{
    [Id(0)] public bool Paused { get; set; }

    /// <summary>The deliveries holding a run slot (<c>concurrencyLimit</c>).</summary>
    [Id(1)] public ImmutableList<RunSlotHolder> Running { get; set; } = [];

    /// <summary>The deliveries waiting for one, first asked first.</summary>
    [Id(2)] public ImmutableList<RunSlotHolder> Waiting { get; set; } = [];

    /// <summary>The limit the last request named (a Repository's spec may change it).</summary>
    [Id(3)] public int? Limit { get; set; }
}

/// <summary>
/// The repository-wide pause (stored here, pushed to the refs the catalog knows, asked for by the others) and the
/// repository's run slots: one activation in the cluster keeps, durably, which deliveries hold one of its
/// <c>concurrencyLimit</c> slots and which wait, in the order they first asked. A slot is handed on when its run
/// finishes (<see cref="ReleaseRunSlot"/>), and the ref it goes to is woken. A release that never came (a silo
/// died between the run's end and the call) costs nothing for long: when every slot is taken, the holders' refs
/// are asked whether they still need theirs (<see cref="IRefGrain.HoldsRun"/>), and those that do not lose it.
/// </summary>
public sealed partial class RepositoryGrain(
    [PersistentState("repository", StorageNames.Refs)] IPersistentState<RepositoryState> state,
    IRefCatalog catalog,
    TimeProvider time,
    ILogger<RepositoryGrain> logger) : Grain, IRepositoryGrain
{
    private RepositoryState State => state.State;

    public Task<bool> IsPaused() => Task.FromResult(State.Paused);

    public async Task<AdminResult> SetPaused(bool paused)
    {
        State.Paused = paused;
        await state.WriteStateAsync();
        var repository = this.GetPrimaryKeyString();
        var told = 0;
        string? after = null;
        do
        {
            var page = await catalog.ListAsync(new RefQuery(null, repository, 500, after));
            await Task.WhenAll(page.Refs.Select(r => GrainFactory.GetGrain<IRefGrain>(r.Key).SetRepositoryPaused(paused)));
            told += page.Refs.Count;
            after = page.Next;
        }
        while (after is not null);

        return new AdminResult(true, $"{(paused ? "paused" : "resumed")} {repository} ({told} known refs)", null);
    }

    public async Task<RunSlot> AcquireRunSlot(string key, string delivery, int limit)
    {
        var changed = State.Limit != limit;
        State.Limit = limit;
        if (!Holds(delivery))
        {
            if (!State.Waiting.Exists(w => w.Delivery == delivery))
            {
                State.Waiting = State.Waiting.Add(new RunSlotHolder(key, delivery, time.GetUtcNow()));
                changed = true;
            }

            if (State.Running.Count >= limit)
            {
                changed |= await DropUnneededAsync();
            }
        }

        var granted = Grant(limit);
        if (changed || granted.Count > 0)
        {
            await state.WriteStateAsync();
        }

        Wake(granted.Where(g => g.Delivery != delivery));
        var position = State.Waiting.FindIndex(w => w.Delivery == delivery);
        return new RunSlot(position < 0, position + 1, State.Running.Count, limit);
    }

    public async Task ReleaseRunSlot(string delivery)
    {
        var running = State.Running.RemoveAll(r => r.Delivery == delivery);
        var waiting = State.Waiting.RemoveAll(w => w.Delivery == delivery);
        if (running.Count == State.Running.Count && waiting.Count == State.Waiting.Count)
        {
            return;
        }

        (State.Running, State.Waiting) = (running, waiting);
        var granted = State.Limit is { } limit ? Grant(limit) : [];
        await state.WriteStateAsync();
        Wake(granted);
    }

    public Task<RepositoryRuns> GetRuns() => Task.FromResult(new RepositoryRuns(State.Limit, State.Running, State.Waiting));

    private bool Holds(string delivery) => State.Running.Exists(r => r.Delivery == delivery);

    /// <summary>Moves the first waiting deliveries into the free slots; returns them.</summary>
    private List<RunSlotHolder> Grant(int limit)
    {
        var granted = new List<RunSlotHolder>();
        while (State.Running.Count < limit && !State.Waiting.IsEmpty)
        {
            var next = State.Waiting[0];
            State.Waiting = State.Waiting.RemoveAt(0);
            State.Running = State.Running.Add(next with { Since = time.GetUtcNow() });
            granted.Add(next);
            Log.Granted(logger, next.Delivery, next.Key, State.Running.Count, limit);
        }

        return granted;
    }

    /// <summary>Takes the slots back from deliveries whose refs no longer need them; returns whether any went.</summary>
    private async Task<bool> DropUnneededAsync()
    {
        var answers = await Task.WhenAll(State.Running.Select(async r => (Holder: r, Holds: await HoldsAsync(r))));
        var unneeded = answers.Where(a => !a.Holds).Select(a => a.Holder).ToList();
        foreach (var holder in unneeded)
        {
            Log.Reclaimed(logger, holder.Delivery, holder.Key);
        }

        State.Running = State.Running.RemoveAll(unneeded.Contains);
        return unneeded.Count > 0;
    }

    /// <summary>Whether a holder's ref still needs its slot; a ref that cannot answer keeps it (it is asked again next time).</summary>
    private async Task<bool> HoldsAsync(RunSlotHolder holder)
    {
        try
        {
            return await GrainFactory.GetGrain<IRefGrain>(holder.Key).HoldsRun(holder.Delivery);
        }
        catch (Exception e)
        {
            Log.HolderUnanswered(logger, e, holder.Delivery, holder.Key);
            return true;
        }
    }

    private void Wake(IEnumerable<RunSlotHolder> granted)
    {
        foreach (var key in granted.Select(g => g.Key).Distinct(StringComparer.Ordinal))
        {
            // One-way: the ref may itself be waiting for this grain right now.
            GrainFactory.GetGrain<IRefGrain>(key).Wake().Ignore();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(180, LogLevel.Information, "Run slot granted to {Delivery} ({Key}): {Running} of {Limit} taken")]
        public static partial void Granted(ILogger logger, string delivery, string key, int running, int limit);

        [LoggerMessage(181, LogLevel.Warning, "Run slot of {Delivery} ({Key}) taken back: its ref no longer needs it (its release was lost)")]
        public static partial void Reclaimed(ILogger logger, string delivery, string key);

        [LoggerMessage(182, LogLevel.Warning, "The ref {Key} could not say whether {Delivery} still needs its run slot; it keeps it for now")]
        public static partial void HolderUnanswered(ILogger logger, Exception error, string delivery, string key);
    }
}
