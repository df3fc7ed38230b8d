using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Storage;
using Microsoft.Extensions.Logging;

namespace CiTrigger.Grains.Processing;

/// <summary>
/// One ref's use of the catalog's delivery index: where a delivery went (the admin lookup) and the
/// de-duplication memory beyond the ref's own history. A delivery is recorded while its event is stored,
/// before GitHub gets its 202, so every acknowledged delivery can be looked up even after a crash; before
/// its event may leave the queue, the record is made sure of again.
/// </summary>
public sealed partial class DeliveryIndex(IRefCatalog catalog, string key, ILogger logger)
{
    // Deliveries this activation recorded; the rest (recovered from storage) are written again when they finish.
    private readonly HashSet<string> recorded = new(StringComparer.Ordinal);

    public async Task<bool> IsKnownAsync(string delivery) => await catalog.FindDeliveryAsync(delivery) is not null;

    /// <summary>
    /// Stores the event through <paramref name="store"/> and records its delivery at the same time; returns
    /// when both are durable. When the event could not be stored the record is taken back (so GitHub's
    /// redelivery is not refused as a duplicate); when only the record failed, the event stays stored and
    /// the failure is thrown, so nothing is acknowledged that a lookup could miss.
    /// </summary>
    public async Task StoreAsync(HookEvent e, Func<Task> store)
    {
        var record = catalog.RecordDeliveryAsync(e.Delivery, key, e.ReceivedAt);
        try
        {
            await store();
        }
        catch
        {
            await ForgetAsync(e.Delivery, record);
            throw;
        }

        await record;
        recorded.Add(e.Delivery);
    }

    /// <summary>
    /// Returns once the delivery is in the index: the write made when it was queued did it; an event
    /// recovered from storage is written again (its record may have expired), and a failure here throws.
    /// </summary>
    public async Task RememberAsync(HookEvent e)
    {
        if (!recorded.Remove(e.Delivery))
        {
            await catalog.RecordDeliveryAsync(e.Delivery, key, e.ReceivedAt);
        }
    }

    private async Task ForgetAsync(string delivery, Task record)
    {
        try
        {
            await record;
            await catalog.ForgetDeliveryAsync(delivery);
        }
        catch (Exception error)
        {
            Log.ForgetFailed(logger, error, key, delivery);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(10, LogLevel.Error, "Could not take back the delivery record of {Delivery} ({Key}) whose event was not stored; a redelivery of it will be answered as a duplicate")]
        public static partial void ForgetFailed(ILogger logger, Exception error, string key, string delivery);
    }
}
