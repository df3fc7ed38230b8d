using CiTrigger.Grains.Abstractions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CiTrigger.Grains.GitHub;

/// <summary>
/// Once the silo runs, makes sure the cluster's one delivery scanner is active; it scans on activation.
/// On a silo that joins a cluster whose scanner already runs, this changes nothing.
/// </summary>
public sealed partial class DeliveryRecoveryStarter(
    IGrainFactory grains, IOptions<DeliveryRecoveryOptions> options, GitHubAccess github, IHostApplicationLifetime lifetime,
    ILogger<DeliveryRecoveryStarter> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.Enabled(github.IsApp))
        {
            lifetime.ApplicationStarted.Register(() => _ = StartScannerAsync());
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task StartScannerAsync()
    {
        try
        {
            await grains.GetGrain<IDeliveryRecoveryGrain>(0).Start();
        }
        catch (Exception e)
        {
            Log.StartFailed(logger, e);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(75, LogLevel.Warning, "Could not start the delivery recovery scanner; its reminder will")]
        public static partial void StartFailed(ILogger logger, Exception error);
    }
}
