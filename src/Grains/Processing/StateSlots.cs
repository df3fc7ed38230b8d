using Orleans.Storage;

namespace CiTrigger.Grains.Processing;

/// <summary>One stored piece of grain state that is written as a whole.</summary>
public interface IStateSlot<T>
{
    T State { get; set; }

    Task WriteAsync();
}

/// <summary>A state Orleans injects through <c>[PersistentState]</c>; <paramref name="conflicted"/> as in <see cref="ConflictNoticingStorage"/>.</summary>
public sealed class PersistentSlot<T>(IPersistentState<T> state, Action? conflicted = null) : IStateSlot<T>
{
    public T State
    {
        get => state.State;
        set => state.State = value;
    }

    public Task WriteAsync() => ConflictNoticingStorage.Notice(state.WriteStateAsync(), conflicted);
}

/// <summary>
/// Grain storage that calls <paramref name="conflicted"/> when a write fails because the store holds a newer version
/// than the caller (an <see cref="InconsistentStateException"/>: a write that failed, a client timeout, had landed; or
/// another activation wrote). Writing again can only fail the same way: the activation has to go, and the next one
/// reads what is stored. The failure is still thrown.
/// </summary>
public sealed class ConflictNoticingStorage(IGrainStorage inner, Action conflicted) : IGrainStorage
{
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ReadStateAsync(stateName, grainId, grainState);

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        Notice(inner.WriteStateAsync(stateName, grainId, grainState), conflicted);

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        Notice(inner.ClearStateAsync(stateName, grainId, grainState), conflicted);

    internal static async Task Notice(Task write, Action? conflicted)
    {
        try
        {
            await write;
        }
        catch (InconsistentStateException) when (conflicted is not null)
        {
            conflicted();
            throw;
        }
    }
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
