using CiTrigger.Grains.Pipeline;
using Microsoft.Extensions.Hosting;

namespace CiTrigger.Grains.Kubernetes;

/// <summary>
/// Builds the manifest applier when the host starts, before any grain can ask for it. Loading a kubeconfig
/// is sync-over-async inside KubernetesClient: built lazily by the first ref activations, it blocked a
/// thread-pool thread while every other activation blocked on the same singleton, and the pool starved
/// (a silo-wide stall of about 30 s, seen in the benchmark). The host resolves every hosted service before
/// it starts any of them, so taking the applier as a dependency builds it on the start-up thread, and a
/// broken kubeconfig stops the service at start instead of failing its first event.
/// </summary>
#pragma warning disable CS9113 // The parameter is taken for the side effect of building it.
internal sealed class ApplierStartup(IManifestApplier applier) : IHostedService
#pragma warning restore CS9113
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
