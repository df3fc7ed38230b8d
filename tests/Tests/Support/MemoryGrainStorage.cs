using System.Collections.Concurrent;
using CiTrigger.Grains.Processing;
using Orleans.Storage;

namespace CiTrigger.Tests.Support;

/// <summary>
/// Grain storage in memory, as strict about ETags as a real store, that counts writes per state, can be
/// made to fail, and notes each write and clear in a <see cref="Journal"/> it may share with other fakes.
/// </summary>
public sealed class MemoryGrainStorage(Journal? journal = null) : IGrainStorage
{
    public ConcurrentDictionary<string, (object State, string ETag)> Records { get; } = new();

    /// <summary>The state names written, in order.</summary>
    public List<string> Writes { get; } = [];

    public Journal Journal { get; } = journal ?? new Journal();

    public Func<string, bool> FailWrite { get; set; } = _ => false;

    public Func<string, bool> FailClear { get; set; } = _ => false;

    /// <summary>Writes wait for this before they store anything: a test holds them in flight with it.</summary>
    public Task WritesHeldUntil { get; set; } = Task.CompletedTask;

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (Records.TryGetValue(stateName, out var record))
        {
            (grainState.State, grainState.ETag, grainState.RecordExists) = ((T)record.State, record.ETag, true);
        }
        else
        {
            (grainState.State, grainState.ETag, grainState.RecordExists) = (Activator.CreateInstance<T>(), null, false);
        }

        return Task.CompletedTask;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        await Task.Yield();
        await WritesHeldUntil;
        if (FailWrite(stateName))
        {
            throw new IOException($"injected: cannot write {stateName}");
        }

        var current = Records.TryGetValue(stateName, out var record) ? record.ETag : null;
        if (current != grainState.ETag)
        {
            throw new InconsistentStateException($"{stateName}: stored {current}, expected {grainState.ETag}");
        }

        var etag = Guid.NewGuid().ToString();
        Records[stateName] = (grainState.State!, etag);
        (grainState.ETag, grainState.RecordExists) = (etag, true);
        Writes.Add(stateName);
        Journal.Add($"write {stateName}");
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (FailClear(stateName))
        {
            throw new IOException($"injected: cannot clear {stateName}");
        }

        Records.TryRemove(stateName, out _);
        (grainState.ETag, grainState.RecordExists) = (null, false);
        Journal.Add($"clear {stateName}");
        return Task.CompletedTask;
    }
}

/// <summary>A state of a <see cref="MemoryGrainStorage"/> as Orleans hands it to a grain through <c>[PersistentState]</c>: read once, at activation.</summary>
public sealed class MemorySlot<T> : IStateSlot<T>
    where T : new()
{
    private readonly MemoryGrainStorage storage;
    private readonly string name;
    private readonly GrainId grain;
    private readonly GrainState<T> state = new(new T());

    public MemorySlot(MemoryGrainStorage storage, string name, GrainId grain)
    {
        (this.storage, this.name, this.grain) = (storage, name, grain);
        if (storage.Records.TryGetValue(name, out var record))
        {
            (state.State, state.ETag, state.RecordExists) = ((T)record.State, record.ETag, true);
        }
    }

    public T State
    {
        get => state.State!;
        set => state.State = value;
    }

    public Task WriteAsync() => storage.WriteStateAsync(name, grain, state);
}
