using System.Diagnostics.Metrics;
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

    public void Received(string eventType, int status) =>
        webhooks.Add(1, new("event", eventType.Length == 0 ? "(none)" : eventType), new("status", status));
}
