using System.Net;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Pipeline;
using CiTrigger.Grains.Storage;
using CiTrigger.Grains.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Octokit;
using Orleans.Hosting;

namespace CiTrigger.Grains.GitHub;

/// <summary>
/// Scans GitHub's delivery logs for deliveries the service missed and asks for them again. A missed
/// delivery is one of a handled event type that GitHub did not see answered 2xx and whose guid the
/// delivery index does not know. Once asked for, it is awaited (remembered durably, with the log entry
/// to ask for, before the next request): every scan looks it up in the index again and, while it is
/// unknown, asks again after a backoff that grows by the <see cref="RetryPolicy"/>, until it is known,
/// an attempt of it was answered 2xx or refused for good, GitHub refuses to redeliver it, or it is older
/// than GitHub's redelivery window. A redelivery keeps its guid, so the gateway's de-duplication makes a
/// repeated one harmless. Scans read back to where the last complete one started, less
/// <see cref="Overlap"/> (<c>delivered_at</c> is when an attempt started, so a slow one can appear late),
/// and never further than GitHub keeps deliveries redeliverable.
/// </summary>
public sealed partial class DeliveryRecoveryGrain(
    [PersistentState("recovery", StorageNames.Refs)] IPersistentState<DeliveryRecoveryState> state,
    GitHubAccess github,
    IOptions<DeliveryRecoveryOptions> options,
    IOptions<ReminderOptions> reminderOptions,
    IRefCatalog catalog,
    RetryPolicy retry,
    TriggerMetrics metrics,
    TimeProvider time,
    ILogger<DeliveryRecoveryGrain> logger) : Grain, IDeliveryRecoveryGrain, IRemindable
{
    public const string ReminderName = "recovery";
    public static readonly TimeSpan Overlap = TimeSpan.FromMinutes(5);

    private bool scanning;

    private bool Enabled => options.Value.Enabled(github.IsApp);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (!Enabled)
        {
            await ForgetReminderAsync(cancellationToken);
            return;
        }

        var interval = options.Value.RecoveryInterval;
        this.RegisterGrainTimer(ScanAsync, new GrainTimerCreationOptions
        {
            DueTime = TimeSpan.Zero,
            Period = interval,
            Interleave = true,
            KeepAlive = true,
        });
        try
        {
            // Only to be activated again on another silo should this one die; the timer does the scanning, so
            // the reminder may tick less often: at least a minute, and never under what Orleans accepts.
            var period = new[] { interval, TimeSpan.FromMinutes(1), reminderOptions.Value.MinimumReminderPeriod }.Max();
            await this.RegisterOrUpdateReminder(ReminderName, period, period, cancellationToken);
        }
        catch (Exception e)
        {
            Log.ReminderFailed(logger, e);
        }
    }

    public Task Start() => Task.CompletedTask;

    /// <summary>After recovery was switched off, the reminder of an earlier run must stop waking this grain.</summary>
    private async Task ForgetReminderAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (await this.GetReminder(ReminderName, cancellationToken) is { } reminder)
            {
                await this.UnregisterReminder(reminder, cancellationToken);
            }
        }
        catch (Exception e)
        {
            Log.ReminderFailed(logger, e);
        }
    }

    public Task<RecoveryStatus> GetStatus() => Task.FromResult(new RecoveryStatus(
        Enabled, options.Value.RecoveryInterval, state.State.Scans, state.State.LastScan, state.State.Requested.Count, state.State.Awaited.Count));

    public Task ReceiveReminder(string reminderName, TickStatus status) => Task.CompletedTask;

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

    private static partial class Log
    {
        [LoggerMessage(70, LogLevel.Information, "Asked GitHub to redeliver {Delivery} ({EventType}, answered {StatusCode} before)")]
        public static partial void Requested(ILogger logger, string delivery, string eventType, int statusCode);

        [LoggerMessage(71, LogLevel.Warning, "GitHub refused to redeliver {Delivery} ({StatusCode}); it is not asked again")]
        public static partial void Refused(ILogger logger, Exception error, string delivery, int statusCode);

        [LoggerMessage(72, LogLevel.Warning, "Scanning the delivery log {Log} failed; the next scan reads back over it again")]
        public static partial void ScanFailed(ILogger logger, Exception error, string log);

        [LoggerMessage(73, LogLevel.Debug, "Delivery scan back to {Since}: {Seen} deliveries seen, {Requested} redeliveries requested")]
        public static partial void Scanned(ILogger logger, int seen, int requested, DateTimeOffset since);

        [LoggerMessage(74, LogLevel.Warning, "Could not register or remove the delivery recovery reminder")]
        public static partial void ReminderFailed(ILogger logger, Exception error);

        [LoggerMessage(76, LogLevel.Information, "Asked GitHub again to redeliver {Delivery} (request {Asks}): the delivery index still does not know it")]
        public static partial void AskedAgain(ILogger logger, string delivery, int asks);

        [LoggerMessage(77, LogLevel.Debug, "No longer waiting for {Delivery} after {Asks} requests: {Reason}")]
        public static partial void Settled(ILogger logger, string delivery, int asks, string reason);

        [LoggerMessage(78, LogLevel.Warning, "Gave up on {Delivery}: still unknown after {Asks} requests, and delivered {DeliveredAt}, beyond GitHub's 3-day redelivery window")]
        public static partial void GaveUp(ILogger logger, string delivery, int asks, DateTimeOffset deliveredAt);

        [LoggerMessage(79, LogLevel.Warning, "Asking again for awaited deliveries failed; the next scan tries again")]
        public static partial void AskingAgainFailed(ILogger logger, Exception error);
    }
}
