using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Pipeline;
using Microsoft.Extensions.Logging;

namespace CiTrigger.Grains.Processing;

/// <summary>A repository's run slots (a Repository's <c>concurrencyLimit</c>) as processing uses them.</summary>
public interface IRunSlots
{
    /// <summary>Returns once the event holds a slot; throws <see cref="WaitingForRunSlotException"/> while it must wait.</summary>
    Task AcquireAsync(HookEvent e, int limit);

    /// <summary>The delivery's run is over (or it ended without one): its slot, if it held one, goes on. Never throws.</summary>
    Task ReleaseAsync(string repository, string delivery);
}

/// <summary>The slots kept by each repository's grain (<see cref="IRepositoryGrain"/>), across all silos.</summary>
public sealed partial class GrainRunSlots(IGrainFactory grains, ILogger<GrainRunSlots> logger) : IRunSlots
{
    public async Task AcquireAsync(HookEvent e, int limit)
    {
        var slot = await grains.GetGrain<IRepositoryGrain>(RefKey.Repository(e.Forge, e.Repository)).AcquireRunSlot(e.Key, e.Delivery, limit);
        if (!slot.Granted)
        {
            throw new WaitingForRunSlotException(Describe(slot));
        }
    }

    public async Task ReleaseAsync(string repository, string delivery)
    {
        try
        {
            await grains.GetGrain<IRepositoryGrain>(repository).ReleaseRunSlot(delivery);
        }
        catch (Exception error)
        {
            // The repository takes the slot back itself once it is short of slots and asks who still needs one.
            Log.ReleaseFailed(logger, error, delivery, repository);
        }
    }

    /// <summary>The words of a waiting check.</summary>
    public static string Describe(RunSlot slot) =>
        $"queued: waiting for a run slot ({slot.Running} of {slot.Limit} runs of the repository running; number {slot.Position} in line)";

    private static partial class Log
    {
        [LoggerMessage(183, LogLevel.Warning, "Could not hand on the run slot of {Delivery} ({Repository}); the repository takes it back when it needs it")]
        public static partial void ReleaseFailed(ILogger logger, Exception error, string delivery, string repository);
    }
}

/// <summary>No grains (tests of plain parts): every event may run at once.</summary>
public sealed class NoRunSlots : IRunSlots
{
    public static readonly NoRunSlots Instance = new();

    public Task AcquireAsync(HookEvent e, int limit) => Task.CompletedTask;

    public Task ReleaseAsync(string repository, string delivery) => Task.CompletedTask;
}
