using CiTrigger.Gateway.Events;
using CiTrigger.Gateway.Forges;
using CiTrigger.Grains.Abstractions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace CiTrigger.Gateway.Webhooks;

/// <summary>
/// A forge's request to run an event again, as its reader found it (<see cref="EventReadResult.RerunRequested"/>);
/// GitHub's are its Re-run buttons: a <c>check_run</c> <c>rerequested</c> whose <c>external_id</c> is a delivery this
/// service processed, or a <c>check_suite</c> <c>rerequested</c> of a head commit the branch's ref processed,
/// queues that event again in its ref (<see cref="IRefGrain.Rerun"/>), answered 202 with the new delivery id.
/// The delivery must belong to the repository the webhook came from: an <c>external_id</c> is whatever the
/// check run's App wrote, so a run of another repository's event is never started from here.
/// </summary>
public sealed partial class WebhookReruns(IGrainFactory grains, EventFilter filter, ILogger<WebhookReruns> logger)
{
    /// <summary>The answer for a re-run, or null when there is no event to re-run: the webhook is then handled as it reads otherwise.</summary>
    /// <param name="forge">The forge the webhook came from (<see cref="IWebhookForge.Name"/>).</param>
    /// <param name="rerun">What the payload asks to re-run.</param>
    /// <param name="asked">The webhook's own delivery id: remembered, so its redelivery re-runs nothing twice.</param>
    /// <param name="at">When the webhook arrived.</param>
    /// <param name="timeout">How long the event may take to be stored (Webhook:AcceptTimeout).</param>
    /// <param name="aborted">The request's abort.</param>
    public async Task<(int StatusCode, WebhookAnswer Body)?> TryAsync(
        string forge, EventReadResult.RerunRequested rerun, string asked, DateTimeOffset at, TimeSpan timeout, CancellationToken aborted)
    {
        string? key = null;
        try
        {
            key = rerun.Ref is { } branchRef
                ? RefKey.For(forge, rerun.Repository, branchRef)
                : await grains.GetGrain<IRefDirectoryGrain>(0).FindDelivery(rerun.Delivery!).WaitAsync(timeout, aborted);
            if (key is null || !RefKey.TryParse(key, out var keyForge, out var repository, out var gitRef)
                || keyForge != forge || !string.Equals(repository, rerun.Repository, StringComparison.OrdinalIgnoreCase))
            {
                return null;
            }

            if (filter.IgnoreReason(rerun.Repository, gitRef) is { } reason)
            {
                return (StatusCodes.Status200OK, new WebhookAnswer("ignored", asked, null, reason));
            }

            var result = await grains.GetGrain<IRefGrain>(key).Rerun(new RerunRequest(rerun.Delivery, rerun.Revision, at, asked, rerun.Pipeline)).WaitAsync(timeout, aborted);
            switch (result.Status)
            {
                case RerunStatus.Queued:
                    Log.Rerun(logger, result.Delivery!, result.RerunOf!, key, asked);
                    return (StatusCodes.Status202Accepted, new WebhookAnswer("queued", result.Delivery, key, $"a re-run of {result.RerunOf}"));
                case RerunStatus.Duplicate:
                    return (StatusCodes.Status200OK, new WebhookAnswer("duplicate", asked, key, null));
                case RerunStatus.Unfinished:
                    return (StatusCodes.Status200OK, new WebhookAnswer("ignored", asked, key, result.Message));
                case RerunStatus.Full:
                    return (StatusCodes.Status503ServiceUnavailable, new WebhookAnswer("unavailable", asked, key, result.Message + "; nothing was acknowledged"));
                default:
                    return null;
            }
        }
        catch (Exception e) when (!aborted.IsCancellationRequested)
        {
            Log.Unavailable(logger, e, asked, key ?? rerun.Repository);
            return (StatusCodes.Status503ServiceUnavailable,
                new WebhookAnswer("unavailable", asked, key, e is TimeoutException
                    ? $"the re-run could not be stored within {timeout.TotalSeconds:0.#} s; nothing was acknowledged"
                    : "the re-run could not be stored; nothing was acknowledged"));
        }
    }

    private static partial class Log
    {
        [LoggerMessage(105, LogLevel.Information, "Queued {Delivery} for {Key}, a re-run of {RerunOf} that delivery {Asked} asked for")]
        public static partial void Rerun(ILogger logger, string delivery, string rerunOf, string key, string asked);

        [LoggerMessage(106, LogLevel.Warning, "Could not store the re-run that delivery {Asked} asked for ({Key}); answered 503")]
        public static partial void Unavailable(ILogger logger, Exception error, string asked, string key);
    }
}
