using System.Net;
using CiTrigger.Grains.Abstractions;
using Octokit;

namespace CiTrigger.Grains.GitHub;

// One scan: read each delivery log back to where the last complete scan started, ask for what was missed, and
// look up again what was asked for before.
public sealed partial class DeliveryRecoveryGrain
{
    private async Task ScanAsync(CancellationToken cancellationToken)
    {
        if (scanning)
        {
            return;
        }

        scanning = true;
        try
        {
            var scan = new Scan(time.GetUtcNow(), new RequestedRedeliveries(state.State, retry, options.Value.RecoveryInterval));
            var oldest = scan.Started - RequestedRedeliveries.Window;
            var since = state.State.CoveredFrom is { } covered && covered - Overlap > oldest ? covered - Overlap : oldest;
            var logs = await LogsAsync(cancellationToken);
            foreach (var log in logs)
            {
                try
                {
                    await ReadAsync(scan, log, since, cancellationToken);
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested)
                {
                    scan.Error = $"{log.Path}: {e.Message}";
                    Log.ScanFailed(logger, e, log.Path);
                }
            }

            if (scan.Error is null)
            {
                state.State.CoveredFrom = scan.Started;
            }

            try
            {
                await AskAgainAsync(scan, logs, cancellationToken);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                scan.Error ??= $"asking again: {e.Message}";
                Log.AskingAgainFailed(logger, e);
            }

            scan.Requests.Forget(scan.Started, Overlap);
            state.State.LastScan = new RecoveryScan(scan.Started, scan.Seen, scan.Requested, scan.Error);
            state.State.Scans++;
            await state.WriteStateAsync(cancellationToken);
            Log.Scanned(logger, scan.Seen, scan.Requested, since);
        }
        finally
        {
            scanning = false;
        }
    }

    private async Task<IReadOnlyList<HookDeliveryLog>> LogsAsync(CancellationToken cancellationToken)
    {
        if (github.App is { } app)
        {
            return [new HookDeliveryLog(app, "app/hook/deliveries")];
        }

        var logs = new List<HookDeliveryLog>();
        foreach (var (repository, hook) in options.Value.Hooks)
        {
            logs.Add(new HookDeliveryLog(await github.ForRepositoryAsync(repository, null, cancellationToken), $"repos/{repository}/hooks/{hook}/deliveries"));
        }

        return logs;
    }

    /// <summary>Asks for the log's missed deliveries back to <paramref name="since"/>, and reads the answers to awaited ones.</summary>
    private async Task ReadAsync(Scan scan, HookDeliveryLog log, DateTimeOffset since, CancellationToken cancellationToken)
    {
        var answered = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var delivery in log.ReadBackToAsync(since, cancellationToken))
        {
            scan.Seen++;
            if (scan.Requests.IsAwaited(delivery.DeliveryGuid, out var awaited))
            {
                // Newest first: the first attempt after the requested entry is the service's latest answer.
                if (delivery.Id > awaited.Id && answered.Add(delivery.DeliveryGuid) && RequestedRedeliveries.Settles(delivery))
                {
                    scan.Requests.Settle(delivery.DeliveryGuid);
                    Log.Settled(logger, delivery.DeliveryGuid, awaited.Asks, $"an attempt was answered {delivery.StatusCode}");
                }
            }
            else if (await RequestIfMissedAsync(scan, log, delivery, cancellationToken))
            {
                scan.Requested++;
            }
        }
    }

    private async Task<bool> RequestIfMissedAsync(Scan scan, HookDeliveryLog log, HookDeliveryItem delivery, CancellationToken cancellationToken)
    {
        if (delivery.Succeeded || !options.Value.HandledEvents.Contains(delivery.Event) || delivery.DeliveryGuid.Length == 0
            || scan.Requests.WasAsked(delivery.DeliveryGuid)
            || await catalog.FindDeliveryAsync(delivery.DeliveryGuid) is not null)
        {
            return false;
        }

        var asked = await RedeliverAsync(log, delivery.Id, delivery.DeliveryGuid, cancellationToken);
        if (asked)
        {
            Log.Requested(logger, delivery.DeliveryGuid, delivery.Event, delivery.StatusCode);
            scan.Requests.Asked(log.Path, delivery, scan.Started);
        }
        else
        {
            scan.Requests.Refused(delivery.DeliveryGuid, scan.Started);
        }

        await state.WriteStateAsync(cancellationToken);
        return asked;
    }

    /// <summary>Looks each awaited delivery up again; asks for the ones still unknown whose backoff has passed, drops the expired ones.</summary>
    private async Task AskAgainAsync(Scan scan, IReadOnlyList<HookDeliveryLog> logs, CancellationToken cancellationToken)
    {
        foreach (var (guid, awaited) in scan.Requests.Awaited)
        {
            if (await catalog.FindDeliveryAsync(guid) is not null)
            {
                scan.Requests.Settle(guid);
                Log.Settled(logger, guid, awaited.Asks, "the delivery index knows it");
                continue;
            }

            switch (RequestedRedeliveries.Step(awaited, scan.Started))
            {
                case AwaitedStep.Expired:
                    scan.Requests.Settle(guid);
                    Log.GaveUp(logger, guid, awaited.Asks, awaited.DeliveredAt);
                    break;
                case AwaitedStep.AskAgain when logs.FirstOrDefault(l => l.Path == awaited.Log) is { } log:
                    if (await RedeliverAsync(log, awaited.Id, guid, cancellationToken))
                    {
                        Log.AskedAgain(logger, guid, awaited.Asks + 1);
                        scan.Requests.AskedAgain(guid, scan.Started);
                        scan.Requested++;
                    }
                    else
                    {
                        scan.Requests.Refused(guid, scan.Started);
                    }

                    await state.WriteStateAsync(cancellationToken);
                    break;
            }
        }
    }

    /// <summary>Asks GitHub to redeliver; false when it refuses for good (too old, gone), since asking again would not change that.</summary>
    private async Task<bool> RedeliverAsync(HookDeliveryLog log, long id, string guid, CancellationToken cancellationToken)
    {
        try
        {
            await log.RedeliverAsync(id, cancellationToken);
            metrics.DeliveryRecovered();
            return true;
        }
        catch (ApiException e) when ((int)e.StatusCode is >= 400 and < 500 && e.StatusCode != HttpStatusCode.TooManyRequests)
        {
            Log.Refused(logger, e, guid, (int)e.StatusCode);
            return false;
        }
    }

    /// <summary>One scan's moment, its memory of requests, and what it saw, asked for and stumbled on.</summary>
    private sealed class Scan(DateTimeOffset started, RequestedRedeliveries requests)
    {
        public DateTimeOffset Started { get; } = started;

        public RequestedRedeliveries Requests { get; } = requests;

        public int Seen { get; set; }

        public int Requested { get; set; }

        public string? Error { get; set; }
    }
}
