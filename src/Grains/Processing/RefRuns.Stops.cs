using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Pipeline;
using Microsoft.Extensions.Logging;

namespace CiTrigger.Grains.Processing;

// The stops of cancelled runs: sent off the grain's thread, tried up to Handler:MaxStopAttempts times, recorded when confirmed.
public sealed partial class RefRuns
{
    private readonly RetryPolicy stopRetry = retry.ForStops();

    // The stops being sent by this activation, so a resume does not send one twice at once.
    private readonly HashSet<(string Delivery, string Kind, string Namespace, string Name)> stopping = [];

    /// <summary>
    /// Sends every stop the history still holds and this activation is not already sending (after a cancel, and
    /// on activation and reminder ticks for stops an earlier activation or attempt did not get confirmed).
    /// </summary>
    public void ResumeStops()
    {
        foreach (var entry in history.StopsPending.ToList())
        {
            foreach (var o in RunBook.ToStop(entry.Run!))
            {
                if (stopping.Add((entry.Event.Delivery, o.Kind, o.Namespace, o.Name)))
                {
                    // Not awaited: the stop goes on beside the grain's turns, and never throws (see StopAsync).
                    _ = StopAsync(o, entry.Event.Delivery);
                }
            }
        }
    }

    /// <summary>
    /// Sends one stop off the grain's thread, then, back on it, records it done: confirmed, or refused for good
    /// (logged). A stop that kept failing transiently stays pending for the next reminder tick.
    /// </summary>
    private async Task StopAsync(RunObjectRecord run, string delivery)
    {
        try
        {
            var error = await Task.Run(() => stopRetry.RunAsync(ct => control.StopAsync(run, ct), time, CancellationToken.None));
            if (error is not null)
            {
                Log.StopFailed(logger, error, run.Kind, run.Namespace, run.Name, delivery);
                if (error is not PermanentException)
                {
                    return;
                }
            }

            if (history.Find(delivery) is { Run: { } record } entry && RunBook.StopDone(record, run) is { } done)
            {
                await history.UpdateAsync(entry with { Run = done });
            }
        }
        catch (Exception error)
        {
            // Left pending: the next reminder tick sends the stop again.
            Log.StopNotRecorded(logger, error, run.Kind, run.Name, delivery);
        }
        finally
        {
            stopping.Remove((delivery, run.Kind, run.Namespace, run.Name));
        }
    }

    private static partial class Log
    {
        [LoggerMessage(141, LogLevel.Warning, "Could not stop {Kind} {Namespace}/{Name} of {Delivery} (tried again on the next reminder tick unless refused for good); its run is recorded as cancelled")]
        public static partial void StopFailed(ILogger logger, Exception error, string kind, string @namespace, string name, string delivery);

        [LoggerMessage(146, LogLevel.Warning, "Could not record the stop of {Kind} {Name} of {Delivery}; it is sent again on the next reminder tick")]
        public static partial void StopNotRecorded(ILogger logger, Exception error, string kind, string name, string delivery);
    }
}
