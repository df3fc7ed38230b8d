using System.Diagnostics.Metrics;
using CiTrigger.Gateway.Forges;
using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Gateway.Webhooks;

/// <summary>The gateway's instruments, in the service's meter: what arrived and how it was answered.</summary>
public sealed class WebhookMetrics
{
    private readonly Counter<long> webhooks;

    public WebhookMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterNames.Service);
        webhooks = meter.CreateCounter<long>("citrigger.webhooks.received", "{webhook}", "Webhooks received, by event type and HTTP status answered");
    }

    /// <summary>
    /// <paramref name="eventType"/> is what the caller sent, before any signature check: only the event names
    /// this service knows become label values, everything else is <c>other</c>, so nobody can grow the series
    /// without bound by inventing names.
    /// </summary>
    public void Received(string eventType, int status) =>
        webhooks.Add(1, new("event", eventType switch
        {
            "" => "(none)",
            _ when WebhookForges.KnownEvents.Contains(eventType) => eventType,
            _ => "other",
        }), new("status", status));
}
