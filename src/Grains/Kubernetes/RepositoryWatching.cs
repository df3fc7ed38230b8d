using CiTrigger.Grains.Abstractions;
using Microsoft.Extensions.Hosting;

namespace CiTrigger.Grains.Kubernetes;

/// <summary>Runs the Repository watcher with the host when there is a cluster; without one no repository has a Repository.</summary>
internal sealed class RepositoryWatching(IRepositorySettings settings) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) =>
        settings is IHostedService watcher ? watcher.StartAsync(cancellationToken) : Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) =>
        settings is IHostedService watcher ? watcher.StopAsync(cancellationToken) : Task.CompletedTask;
}
