using CiTrigger.Grains.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CiTrigger.Silo.Hosting;

/// <summary>Ready once this silo is an active cluster member.</summary>
public sealed class SiloActiveCheck(ILocalSiloDetails silo, IClusterMembershipService membership) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var status = membership.CurrentSnapshot.GetSiloStatus(silo.SiloAddress);
        return Task.FromResult(status == SiloStatus.Active
            ? HealthCheckResult.Healthy("silo active")
            : HealthCheckResult.Unhealthy($"silo is {status}"));
    }
}

/// <summary>Ready while the store behind grain state and the catalog answers.</summary>
public sealed class StoreReachableCheck(IRefCatalog catalog) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            return await catalog.PingAsync(timeout.Token)
                ? HealthCheckResult.Healthy("store reachable")
                : HealthCheckResult.Unhealthy("store did not answer");
        }
        catch (Exception e)
        {
            return HealthCheckResult.Unhealthy("store unreachable", e);
        }
    }
}
