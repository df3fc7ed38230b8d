using CiTrigger.Grains.Abstractions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CiTrigger.Grains.Processing;

/// <summary>
/// Once the silo runs, wakes every ref that holds a pending-work reminder. Reminders alone would resume
/// them too, but only at their next period; after a restart of the embedded default that is up to a
/// minute of idle time for work GitHub was told is queued.
/// </summary>
public sealed partial class PendingWorkWaker(
    IReminderTable reminders, IGrainFactory grains, IHostApplicationLifetime lifetime, ILogger<PendingWorkWaker> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(() => _ = WakeAllAsync());
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task<int> WakeAllAsync()
    {
        try
        {
            // (0, 0] is the whole ring.
            var rows = await reminders.ReadRows(0, 0);
            var woken = 0;
            foreach (var row in rows.Reminders.Where(r => r.ReminderName == RefGrain.ReminderName))
            {
                await grains.GetGrain<IRefGrain>(row.GrainId.Key.ToString()).Wake();
                woken++;
            }

            Log.Woken(logger, woken);
            return woken;
        }
        catch (Exception e)
        {
            Log.WakeFailed(logger, e);
            return 0;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(30, LogLevel.Information, "Woke {Count} refs with pending work")]
        public static partial void Woken(ILogger logger, int count);

        [LoggerMessage(31, LogLevel.Warning, "Could not wake refs with pending work; their reminders will")]
        public static partial void WakeFailed(ILogger logger, Exception error);
    }
}
