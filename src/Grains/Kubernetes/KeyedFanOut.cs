using System.Runtime.ExceptionServices;

namespace CiTrigger.Grains.Kubernetes;

/// <summary>
/// Runs calls concurrently across keys and one after another within a key, at most <c>limit</c> at once: a
/// watch's changes reach different refs in parallel (each report is a grain call, perhaps an activation), while
/// one ref still sees its changes in the order the watch gave them. A post waits while <c>limit</c> calls are
/// in flight, so a slow observer slows the reading of the watch instead of piling up its changes. After a
/// call failed, later calls are not made, <see cref="Failed"/> is cancelled (the reader stops waiting for
/// the next change), and <see cref="PostAsync"/> and <see cref="ThrowIfFailed"/> throw that failure: the watch
/// ends, and the list that follows makes good what was not reported. Posts come from one reader (not concurrently).
/// </summary>
public sealed class KeyedFanOut(int limit) : IDisposable
{
    private readonly SemaphoreSlim slots = new(limit, limit);

    // The last call posted for each key with a call in flight; a key's next call starts after it.
    private readonly Dictionary<string, Task> tails = new(StringComparer.Ordinal);

    private readonly CancellationTokenSource failed = new();

    private Exception? failure;

    /// <summary>Cancelled when a call fails.</summary>
    public CancellationToken Failed => failed.Token;

    /// <summary>Starts <paramref name="call"/> after the earlier calls of <paramref name="key"/>; waits for a free slot first.</summary>
    public async Task PostAsync(string key, Func<Task> call, CancellationToken cancellationToken)
    {
        ThrowIfFailed();
        await slots.WaitAsync(cancellationToken);
        Task? previous;
        lock (tails)
        {
            previous = tails.GetValueOrDefault(key);
        }

        var task = RunAsync(previous ?? Task.CompletedTask, call);
        lock (tails)
        {
            tails[key] = task;
        }

        _ = task.ContinueWith(
            done =>
            {
                lock (tails)
                {
                    if (tails.TryGetValue(key, out var tail) && tail == done)
                    {
                        tails.Remove(key);
                    }
                }
            },
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Waits until every posted call has ended, failed or not.</summary>
    public async Task WhenIdleAsync()
    {
        for (var i = 0; i < limit; i++)
        {
            await slots.WaitAsync(CancellationToken.None);
        }

        slots.Release(limit);
    }

    public void Dispose()
    {
        slots.Dispose();
        failed.Dispose();
    }

    /// <summary>Throws the first failure of a call, if any.</summary>
    public void ThrowIfFailed()
    {
        if (Volatile.Read(ref failure) is { } error)
        {
            ExceptionDispatchInfo.Throw(error);
        }
    }

    private async Task RunAsync(Task previous, Func<Task> call)
    {
        try
        {
            await previous.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (Volatile.Read(ref failure) is null)
            {
                await call();
            }
        }
        catch (Exception error)
        {
            if (Interlocked.CompareExchange(ref failure, error, null) is null)
            {
                await failed.CancelAsync();
            }
        }
        finally
        {
            slots.Release();
        }
    }
}
