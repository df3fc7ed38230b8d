using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Gateway.Admin;

/// <summary>An operator's re-run of one delivery, as both the admin API and the status page ask for it.</summary>
public static class DeliveryReruns
{
    /// <summary>The ref's answer and the ref's key; both null when the delivery is not known at all.</summary>
    /// <param name="grains">The cluster.</param>
    /// <param name="delivery">The delivery to run again.</param>
    /// <param name="at">When it was asked.</param>
    /// <param name="pipeline">Pipeline mode: only this pipeline of it (a name checked by the caller).</param>
    public static async Task<(RerunResult? Result, string? Key)> RunAsync(IGrainFactory grains, string delivery, DateTimeOffset at, string? pipeline = null) =>
        await grains.GetGrain<IRefDirectoryGrain>(0).FindDelivery(delivery) is { } key
            ? (await grains.GetGrain<IRefGrain>(key).Rerun(new RerunRequest(delivery, "", at, AskedBy: null, pipeline)), key)
            : (null, null);
}
