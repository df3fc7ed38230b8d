using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Gateway.Admin;

/// <summary>An operator's re-run of one delivery, as both the admin API and the status page ask for it.</summary>
public static class DeliveryReruns
{
    /// <summary>The ref's answer and the ref's key; both null when the delivery is not known at all.</summary>
    public static async Task<(RerunResult? Result, string? Key)> RunAsync(IGrainFactory grains, string delivery, DateTimeOffset at) =>
        await grains.GetGrain<IRefDirectoryGrain>(0).FindDelivery(delivery) is { } key
            ? (await grains.GetGrain<IRefGrain>(key).Rerun(new RerunRequest(delivery, "", at, AskedBy: null)), key)
            : (null, null);
}
