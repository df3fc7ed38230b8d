using CiTrigger.Grains.Pipeline;
using Microsoft.Extensions.Hosting;

namespace CiTrigger.Grains.Kubernetes;

/// <summary>Runs the run follower with the host when there is a cluster; in dry-run there is nothing to follow.</summary>
internal sealed class RunFollowingStartup(IRunControl control) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) =>
        control is IHostedService follower ? follower.StartAsync(cancellationToken) : Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) =>
        control is IHostedService follower ? follower.StopAsync(cancellationToken) : Task.CompletedTask;
}
