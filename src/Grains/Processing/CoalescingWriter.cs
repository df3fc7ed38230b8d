namespace CiTrigger.Grains.Processing;

/// <summary>
/// Serializes writes of one stored state and folds writes that queue up behind each other into one.
/// The ref grain's drain runs interleaved with its calls, so two writes of the same state could
/// otherwise overlap and fail each other's ETag check.
/// </summary>
public sealed class CoalescingWriter<T>(IStateSlot<T> state) : IDisposable
{
    private readonly SemaphoreSlim gate = new(1, 1);
    private long version;
    private long saved;

    public T State => state.State;

    public void Dispose() => gate.Dispose();

    /// <summary>Replaces the state in memory and returns once a write that includes it succeeded.</summary>
    public Task SaveAsync(T next)
    {
        state.State = next;
        return SaveUpToAsync(++version);
    }

    /// <summary>Returns once everything set so far is written; writes only if something is not.</summary>
    public Task FlushAsync() => SaveUpToAsync(version);

    /// <summary>Replaces the state in memory without writing it, to take back a change whose write failed.</summary>
    public void Replace(T next) => state.State = next;

    private async Task SaveUpToAsync(long target)
    {
        if (saved >= target)
        {
            return;
        }

        await gate.WaitAsync();
        try
        {
            if (saved >= target)
            {
                return;
            }

            var writing = version;
            await state.WriteAsync();
            saved = writing;
        }
        finally
        {
            gate.Release();
        }
    }
}
