using Microsoft.Extensions.Hosting;

namespace CiTrigger.Grains.Kubernetes;

/// <summary>
/// Runs what is registered as <typeparamref name="T"/> with the host when it is a hosted service: with a cluster the
/// run follower (<see cref="Pipeline.IRunControl"/>) and the Repository watcher (<see cref="Abstractions.IRepositorySettings"/>);
/// in dry-run they are plain stand-ins and nothing runs.
/// </summary>
internal sealed class StartedWithHost<T>(T service) : IHostedService
    where T : class
{
    public Task StartAsync(CancellationToken cancellationToken) =>
        service is IHostedService hosted ? hosted.StartAsync(cancellationToken) : Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) =>
        service is IHostedService hosted ? hosted.StopAsync(cancellationToken) : Task.CompletedTask;
}
