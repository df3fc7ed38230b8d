using System.Net;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Processing;
using CiTrigger.Grains.Storage;
using CiTrigger.Grains.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Octokit;
using Orleans.Hosting;

namespace CiTrigger.Grains.GitHub;

[GenerateSerializer]
public sealed class DeliveryRecoveryState
{
    /// <summary>Where the last complete scan started; the next one reads back to here, less an overlap.</summary>
    [Id(0)] public DateTimeOffset? CoveredFrom { get; set; }

    /// <summary>Guids whose redelivery was requested, and when: each is requested once.</summary>
    [Id(1)] public Dictionary<string, DateTimeOffset> Requested { get; set; } = new(StringComparer.Ordinal);

    [Id(2)] public RecoveryScan? LastScan { get; set; }

    [Id(3)] public long Scans { get; set; }
}

/// <summary>
/// Scans GitHub's delivery logs for deliveries the service missed and asks for them again. A missed
/// delivery is one of a handled event type that GitHub did not see answered 2xx and whose guid the
/// delivery index does not know; each is requested once (remembered durably before the next one), and
/// a redelivery keeps its guid, so the gateway's de-duplication makes a repeated one harmless. Scans
/// read back to where the last complete one started, less <see cref="Overlap"/> (<c>delivered_at</c> is
/// when an attempt started, so a slow one can appear late), and never further than GitHub keeps
/// deliveries redeliverable.
/// </summary>
public sealed partial class DeliveryRecoveryGrain(
    [PersistentState("recovery", StorageNames.Refs)] IPersistentState<DeliveryRecoveryState> state,
    GitHubAccess github,
    IOptions<DeliveryRecoveryOptions> options,
    IOptions<ReminderOptions> reminderOptions,
    IRefCatalog catalog,
    TriggerMetrics metrics,
    TimeProvider time,
    ILogger<DeliveryRecoveryGrain> logger) : Grain, IDeliveryRecoveryGrain, IRemindable
{
    public const string ReminderName = "recovery";
    public static readonly TimeSpan Overlap = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan MaxAge = TimeSpan.FromDays(3);

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
        Enabled, options.Value.RecoveryInterval, state.State.Scans, state.State.LastScan, state.State.Requested.Count));

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
            var started = time.GetUtcNow();
            var oldest = started - MaxAge;
            var since = state.State.CoveredFrom is { } covered && covered - Overlap > oldest ? covered - Overlap : oldest;
            var (seen, requested) = (0, 0);
            string? error = null;
            foreach (var log in await LogsAsync(cancellationToken))
            {
                try
                {
                    await foreach (var delivery in log.ReadBackToAsync(since, cancellationToken))
                    {
                        seen++;
                        if (await RequestIfMissedAsync(log, delivery, cancellationToken))
                        {
                            requested++;
                        }
                    }
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested)
                {
                    error = $"{log.Path}: {e.Message}";
                    Log.ScanFailed(logger, e, log.Path);
                }
            }

            if (error is null)
            {
                state.State.CoveredFrom = started;
            }

            foreach (var old in state.State.Requested.Where(r => r.Value < oldest - Overlap).Select(r => r.Key).ToList())
            {
                state.State.Requested.Remove(old);
            }

            state.State.LastScan = new RecoveryScan(started, seen, requested, error);
            state.State.Scans++;
            await state.WriteStateAsync(cancellationToken);
            Log.Scanned(logger, seen, requested, since);
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

    private async Task<bool> RequestIfMissedAsync(HookDeliveryLog log, HookDeliveryItem delivery, CancellationToken cancellationToken)
    {
        if (delivery.Succeeded || !options.Value.HandledEvents.Contains(delivery.Event) || delivery.DeliveryGuid.Length == 0
            || state.State.Requested.ContainsKey(delivery.DeliveryGuid)
            || await catalog.FindDeliveryAsync(delivery.DeliveryGuid) is not null)
        {
            return false;
        }

        var asked = true;
        try
        {
            await log.RedeliverAsync(delivery.Id, cancellationToken);
            metrics.DeliveryRecovered();
            Log.Requested(logger, delivery.DeliveryGuid, delivery.Event, delivery.StatusCode);
        }
        catch (ApiException e) when ((int)e.StatusCode is >= 400 and < 500 && e.StatusCode != HttpStatusCode.TooManyRequests)
        {
            // GitHub will not redeliver this one (too old, gone): asking again would not change that.
            Log.Refused(logger, e, delivery.DeliveryGuid, (int)e.StatusCode);
            asked = false;
        }

        state.State.Requested[delivery.DeliveryGuid] = time.GetUtcNow();
        await state.WriteStateAsync(cancellationToken);
        return asked;
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
    }
}
