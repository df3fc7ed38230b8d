using System.Diagnostics.Metrics;
using CiTrigger.Grains.Abstractions;
using Microsoft.Extensions.Options;

namespace CiTrigger.Gateway.Webhooks;

/// <summary>
/// The memory all webhook bodies whose signature is not yet checked may hold together
/// (<c>Webhook:MaxUnverifiedBytes</c>). GitHub signs the raw body, so a body is read whole before it can
/// be verified; anyone can open connections and send bytes. Without a shared bound, a few slow uploads
/// announcing 25 MB each exhaust the heap and legitimate deliveries fail with it. With it, the request
/// that would cross the bound is answered 503 and the process keeps its memory.
/// </summary>
public sealed class UnverifiedBodyBudget
{
    private readonly long capacity;
    private long reserved;

    public UnverifiedBodyBudget(IOptions<WebhookOptions> options, IMeterFactory meters)
    {
        capacity = options.Value.MaxUnverifiedBytes;
        meters.Create(MeterNames.Service).CreateObservableGauge("citrigger.webhooks.unverified_bytes", () => Reserved, "By",
            "Memory held by webhook bodies whose signature is not yet checked");
    }

    public long Capacity => capacity;

    public long Reserved => Interlocked.Read(ref reserved);

    /// <summary>Takes <paramref name="bytes"/> from the budget, or nothing when that would exceed it.</summary>
    public bool TryReserve(long bytes)
    {
        var current = Interlocked.Read(ref reserved);
        while (true)
        {
            if (current + bytes > capacity)
            {
                return false;
            }

            var seen = Interlocked.CompareExchange(ref reserved, current + bytes, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }
    }

    public void Release(long bytes) => Interlocked.Add(ref reserved, -bytes);
}
