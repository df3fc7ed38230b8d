using Microsoft.Extensions.Logging;

namespace CiTrigger.Grains.Processing;

/// <summary>
/// The reminder a ref holds while it has pending work, so that after a silo's death another silo
/// reactivates the ref and finishes its queue. Registered before the first pending event is stored,
/// dropped when a tick (or a deactivation) finds the queue empty.
/// </summary>
public sealed partial class PendingWorkReminder(Grain grain, TimeSpan period, ILogger logger)
{
    public const string Name = "pending";

    private IGrainReminder? handle;

    public bool Held => handle is not null;

    public async Task EnsureAsync() =>
        handle ??= await grain.RegisterOrUpdateReminder(Name, period, period);

    /// <summary>Drops the reminder; a failure is only logged, since a stray reminder merely wakes an empty queue that drops it again.</summary>
    public async Task TryDropAsync()
    {
        try
        {
            var current = handle ?? await grain.GetReminder(Name);
            handle = null;
            if (current is not null)
            {
                await grain.UnregisterReminder(current);
            }
        }
        catch (Exception e)
        {
            Log.DropFailed(logger, e, grain.GetPrimaryKeyString());
        }
    }

    private static partial class Log
    {
        [LoggerMessage(7, LogLevel.Warning, "Could not unregister the reminder of {Key}")]
        public static partial void DropFailed(ILogger logger, Exception error, string key);
    }
}
