using Orleans.Storage;

namespace CiTrigger.Grains.Processing;

/// <summary>One stored piece of grain state that is written as a whole.</summary>
public interface IStateSlot<T>
{
    T State { get; set; }

    Task WriteAsync();
}

/// <summary>A state Orleans injects through <c>[PersistentState]</c>.</summary>
public sealed class PersistentSlot<T>(IPersistentState<T> state) : IStateSlot<T>
{
    public T State
    {
        get => state.State;
        set => state.State = value;
    }

    public Task WriteAsync() => state.WriteStateAsync();
}

/// <summary>
/// A state the grain names itself, written straight to its grain storage: for a number of records that
/// is not known up front (the chunks of a ref's queue).
/// </summary>
public sealed class StorageSlot<T>(IGrainStorage storage, string name, GrainId grainId) : IStateSlot<T>
    where T : new()
{
    private readonly GrainState<T> state = new(new T());

    public T State
    {
        get => state.State ??= new T();
        set => state.State = value;
    }

    public bool Exists => state.RecordExists;

    public Task ReadAsync() => storage.ReadStateAsync(name, grainId, state);

    public Task WriteAsync() => storage.WriteStateAsync(name, grainId, state);

    public Task ClearAsync() => storage.ClearStateAsync(name, grainId, state);
}
