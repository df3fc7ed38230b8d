using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Pipeline;
using CiTrigger.Grains.Storage;
using CiTrigger.Grains.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

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
