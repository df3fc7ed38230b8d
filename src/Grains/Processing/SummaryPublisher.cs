using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Storage;
using Microsoft.Extensions.Logging;

namespace CiTrigger.Grains.Processing;

/// <summary>
/// Keeps a ref's line in the catalog, and the lines of its changed events among the recent events, up to
/// date off the hot path: a burst of changes costs one write (the ref's line and its events' lines together),
/// not one per change, so the catalog may trail the ref by <paramref name="delay"/>. Runs on the grain's
/// scheduler, so <paramref name="summarize"/> and <paramref name="describe"/> may read the grain's state.
/// </summary>
public sealed partial class SummaryPublisher(
    IRefCatalog catalog, Func<RefSummary> summarize, Func<IReadOnlyCollection<string>, IReadOnlyList<EventSummary>> describe,
    TimeSpan delay, TimeProvider time, ILogger logger)
{
    private readonly HashSet<string> changed = new(StringComparer.Ordinal);
    private bool dirty;
    private Task publishing = Task.CompletedTask;

    /// <summary>Completes when no write is pending: the ref grain waits for it before its activation goes.</summary>
    public Task Idle => publishing;

    /// <summary>
    /// Notes a change of the ref and, when given, of one of its events; everything noted is written after the
    /// delay, together with any changes that follow.
    /// </summary>
    public void Publish(string? delivery = null)
    {
        if (delivery is not null)
        {
            changed.Add(delivery);
        }

        dirty = true;
        if (publishing.IsCompleted)
        {
            publishing = PublishAsync();
        }
    }

    /// <summary>The catalog line for a ref's state.</summary>
    public static RefSummary Summarize(string key, IReadOnlyList<PendingEvent> pending, bool paused, HistoryEntry? last, DateTimeOffset now)
    {
        var (repository, gitRef) = RefKey.Split(key);
        var headError = pending.Count == 0 ? null : pending[0].Attempts.LastOrDefault()?.Error;
        var state = paused ? RefSummary.PausedState
            : headError is not null ? RefSummary.Retrying
            : pending.Count > 0 && pending.All(p => p.AwaitingApproval) ? RefSummary.Waiting
            : pending.Count > 0 ? RefSummary.Pending
            : last is not null && EventStates.Of(last) is EventStates.Failed or EventStates.TimedOut ? RefSummary.FailedState
            : RefSummary.Idle;
        return new RefSummary(key, repository, gitRef, pending.Count, paused, state,
            last?.Event.Delivery, last?.Outcome, headError ?? last?.Error, now, pending.Count == 0 ? null : pending[0].NotBefore);
    }

    private async Task PublishAsync()
    {
        while (dirty)
        {
            await Task.Delay(delay, time);
            dirty = false;
            var summary = summarize();
            var deliveries = changed.ToList();
            changed.Clear();
            try
            {
                await catalog.RecordAsync(summary, deliveries.Count == 0 ? [] : describe(deliveries));
            }
            catch (Exception e)
            {
                // Written again with the ref's next change, so an event's last state is not lost to one failed write.
                changed.UnionWith(deliveries);
                Log.CatalogFailed(logger, e, summary.Key);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(8, LogLevel.Warning, "Could not update the ref catalog for {Key}")]
        public static partial void CatalogFailed(ILogger logger, Exception error, string key);
    }
}
