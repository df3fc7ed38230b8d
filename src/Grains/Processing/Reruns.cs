using CiTrigger.Grains.Abstractions;
using Microsoft.Extensions.Logging;

namespace CiTrigger.Grains.Processing;

/// <summary>
/// Runs a ref's finished event again (GitHub's Re-run buttons, the operator's re-run): the same event under
/// a new delivery id, <c>{delivery}-rerun-{n}</c>, queued behind the ref's other events and reported with a
/// check run or status of its own (whose <c>external_id</c> is the new id, so re-running a re-run works too).
/// A re-run stands outside the push chain (it neither waits for a predecessor nor moves the last processed
/// commit), and a pull request's re-run is not held for approval again, nor does it ask GitHub about anyone's
/// write access: whoever may press Re-run may approve.
/// </summary>
public sealed partial class Reruns(RefEvents events, DeliveryIndex deliveries, int maxQueueLength, ILogger logger)
{
    public const string Kind = "rerun";

    /// <param name="request">What to run again, and the webhook that asked, if any.</param>
    /// <param name="beforeStore">Runs just before the copy is stored: the ref's reminder must be held by then.</param>
    public async Task<RerunResult> RunAsync(RerunRequest request, Func<Task> beforeStore)
    {
        if (request.AskedBy is { } asked && await events.IsKnownAsync(asked))
        {
            return new RerunResult(RerunStatus.Duplicate, null, null, $"delivery {asked} was handled before");
        }

        if (request.Delivery is { } delivery && events.Pending.Exists(p => p.Event.Delivery == delivery))
        {
            return new RerunResult(RerunStatus.Unfinished, null, delivery, $"delivery {delivery} has not finished yet: there is nothing to run again");
        }

        if (Original(request) is not { } original)
        {
            return new RerunResult(RerunStatus.Unknown, null, request.Delivery, request.Delivery is { } gone
                ? $"delivery {gone} is not in the ref's history (never processed here, or older than Handler:HistorySize events)"
                : $"no finished event of the ref is at revision {request.Revision}");
        }

        if (events.Pending.Count >= maxQueueLength)
        {
            return new RerunResult(RerunStatus.Full, null, original.Delivery, $"the ref's queue is full ({events.Pending.Count} pending events, Handler:MaxQueueLength)");
        }

        var copy = original with
        {
            Delivery = await DerivedDeliveryId.NextAsync(original.Delivery, Kind, events.IsKnownAsync),
            ReceivedAt = request.ReceivedAt,
            RerunOf = original.Delivery,
            NeedsApproval = false,
            RunsIfWriter = null,
            Pipelines = request.Pipeline is { } pipeline ? [pipeline] : original.Pipelines,
        };
        await beforeStore();
        var description = request.Pipeline is { } only ? $"queued (re-run of {original.Delivery}, pipeline {only})" : $"queued (re-run of {original.Delivery})";
        if (request.AskedBy is { } by)
        {
            // The asking webhook's id is remembered with the copy, so GitHub's redelivery of it is a duplicate.
            await deliveries.StoreAsync(copy with { Delivery = by }, () => events.AddCopyAsync(copy, description));
        }
        else
        {
            await events.AddCopyAsync(copy, description);
        }

        Log.Queued(logger, copy.Delivery, original.Delivery, copy.Repository, copy.Ref, copy.Revision);
        return new RerunResult(RerunStatus.Queued, copy.Delivery, original.Delivery, $"queued {copy.Delivery}, a re-run of {original.Delivery}");
    }

    /// <summary>The finished event to run again: the named delivery, else the newest at the revision.</summary>
    private HookEvent? Original(RerunRequest request) => request.Delivery is { } delivery
        ? events.History.Find(delivery)?.Event
        : request.Revision.Length == 0 ? null
        : events.History.Entries.Find(h => h.Event.Revision == request.Revision)?.Event;

    private static partial class Log
    {
        [LoggerMessage(12, LogLevel.Information, "Queued {Delivery}, a re-run of {RerunOf}, for {Repository} {Ref} at {Revision}")]
        public static partial void Queued(ILogger logger, string delivery, string rerunOf, string repository, string @ref, string revision);
    }
}
