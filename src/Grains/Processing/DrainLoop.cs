using Microsoft.Extensions.Logging;

namespace CiTrigger.Grains.Processing;

/// <summary>
/// A ref's drain: takes the next due event, runs one attempt, records it, and goes on until the queue is
/// empty, paused, or waiting for a due time, which it schedules. It runs on the ref grain's one-shot
/// interleaving timer (<see cref="Attach"/>); a request while it runs is seen by the running loop.
/// </summary>
public sealed partial class DrainLoop(
    string key,
    RefEvents events,
    RefActivity activity,
    RefView view,
    AttemptRunner attempts,
    SummaryPublisher summary,
    Func<Task<bool>> repositoryPausedCheck,
    TimeSpan reorderWindow,
    TimeSpan storeRetryDelay,
    TimeProvider time,
    ILogger logger)
{
    // A repository resume reaches the refs the catalog lists; one that was too new to be listed finds
    // out by asking again this often while it has work waiting.
    private static readonly TimeSpan RepositoryPauseRecheck = TimeSpan.FromSeconds(3);

    private IGrainTimer? timer;
    private bool draining;

    public void Attach(IGrainTimer drainTimer) => timer = drainTimer;

    /// <summary>Schedules the drain after <paramref name="delay"/>, unless it is running (it will see the new work).</summary>
    public void Request(TimeSpan delay)
    {
        if (!draining)
        {
            timer?.Change(delay < TimeSpan.Zero ? TimeSpan.Zero : delay, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Schedules the drain for <paramref name="due"/>, which may already have passed by the time this runs.</summary>
    private void RequestAt(DateTimeOffset due) =>
        timer?.Change(TimeSpan.FromTicks(Math.Max(0, (due - time.GetUtcNow()).Ticks)), Timeout.InfiniteTimeSpan);

    public async Task RunAsync(CancellationToken deactivating)
    {
        if (draining)
        {
            return;
        }

        draining = true;
        try
        {
            if (activity.RepositoryPaused != false)
            {
                activity.RepositoryPaused = await repositoryPausedCheck();
                if (activity.RepositoryPaused == true && !events.Pending.IsEmpty)
                {
                    timer?.Change(RepositoryPauseRecheck, Timeout.InfiniteTimeSpan);
                }
            }

            while (!deactivating.IsCancellationRequested && !view.Paused && await TakeNextAsync() is { } next)
            {
                activity.InFlight = next.Entry!.Event.Delivery;
                summary.Publish(activity.InFlight);
                var wakes = activity.Wakes;
                var attempt = await attempts.RunAsync(next.Entry, events.MayHaveRun(activity.InFlight), deactivating);
                activity.InFlight = null;
                if (attempt is null)
                {
                    break;
                }

                await events.RecordAsync(next.Entry, attempt, next.OutOfChain);
                if (activity.Wakes != wakes)
                {
                    // Woken while the attempt ran (a run slot handed over as it was refused one): look again now.
                    activity.SlotWaitUntil = null;
                }

                summary.Publish(next.Entry.Event.Delivery);
            }
        }
        catch (Exception e)
        {
            // The store failed while recording progress; nothing is lost, the same work is looked at again.
            Log.DrainFailed(logger, e, key);
            draining = false;
            Request(storeRetryDelay);
        }
        finally
        {
            activity.InFlight = null;
            draining = false;
            summary.Publish();
        }
    }

    /// <summary>The next event to process now, or null after scheduling the drain for when one is due.</summary>
    private async Task<NextWork?> TakeNextAsync()
    {
        var next = await events.NextAsync(reorderWindow);
        if (next.Due is { } due)
        {
            RequestAt(due);
        }

        return next.Entry is null ? null : next;
    }

    private static partial class Log
    {
        [LoggerMessage(6, LogLevel.Error, "Draining {Key} failed; trying again shortly")]
        public static partial void DrainFailed(ILogger logger, Exception error, string key);
    }
}
