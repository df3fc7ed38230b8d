using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Storage;
using Microsoft.Extensions.Logging;

namespace CiTrigger.Grains.Processing;

/// <summary>
/// One ref's use of the catalog's delivery index, the de-duplication memory beyond the ref's own history.
/// A delivery is recorded as soon as it is queued; before its event may leave the queue, that record is
/// made sure of, so no event is ever finished without its id durably remembered.
/// </summary>
public sealed partial class DeliveryIndex(IRefCatalog catalog, string key, ILogger logger)
{
    // The catalog writes started for deliveries this activation queued.
    private readonly Dictionary<string, Task<bool>> records = new(StringComparer.Ordinal);

    public async Task<bool> IsKnownAsync(string delivery) => await catalog.FindDeliveryAsync(delivery) is not null;

    /// <summary>Starts recording a queued delivery; a failure is logged and made up for by <see cref="RememberAsync"/>.</summary>
    public void Track(HookEvent e) => records[e.Delivery] = RecordAsync(e);

    /// <summary>
    /// Returns once the delivery is in the index: the write made when it was queued usually did it; an event
    /// recovered from storage, or whose first write failed, is written now, and a failure here throws.
    /// </summary>
    public async Task RememberAsync(HookEvent e)
    {
        if (records.Remove(e.Delivery, out var recorded) && await recorded)
        {
            return;
        }

        await catalog.RecordDeliveryAsync(e.Delivery, key, e.ReceivedAt);
    }

    private async Task<bool> RecordAsync(HookEvent e)
    {
        try
        {
            await catalog.RecordDeliveryAsync(e.Delivery, key, e.ReceivedAt);
            return true;
        }
        catch (Exception error)
        {
            Log.RecordFailed(logger, error, key, e.Delivery);
            return false;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(10, LogLevel.Warning, "Could not record delivery {Delivery} of {Key} in the delivery index; it is written again before the event finishes")]
        public static partial void RecordFailed(ILogger logger, Exception error, string key, string delivery);
    }
}
