using CiTrigger.Grains.Kubernetes;
using CiTrigger.Grains.Manifests;
using CiTrigger.Grains.Pipeline;
using k8s;
using Microsoft.Extensions.Options;

namespace CiTrigger.Tests.Support;

/// <summary>A <see cref="KubernetesRunFollower"/> built the way AddKubernetes builds it, with a recording observer and logger.</summary>
public sealed class FollowerUnderTest : IAsyncDisposable
{
    private FollowerUnderTest(k8s.Kubernetes client, KubernetesRunFollower follower, RecordingRunObserver? observer, ListLogger<KubernetesRunFollower> log)
    {
        Client = client;
        Follower = follower;
        Observer = observer;
        Log = log;
    }

    public k8s.Kubernetes Client { get; }

    public KubernetesRunFollower Follower { get; }

    public RecordingRunObserver? Observer { get; }

    public ListLogger<KubernetesRunFollower> Log { get; }

    /// <summary>
    /// Builds the follower; <paramref name="start"/> false leaves it for StopAsync tests only, and
    /// <paramref name="handler"/> sees every request the client sends.
    /// </summary>
    public static async Task<FollowerUnderTest> StartAsync(KubernetesClientConfiguration config, RecordingRunObserver? observer,
        TimeSpan? watchTimeout = null, TimeSpan? discoveryTtl = null, bool start = true, DelegatingHandler? handler = null)
    {
        var client = handler is null ? new k8s.Kubernetes(config) : new k8s.Kubernetes(config, handler);
        var options = Options.Create(new KubernetesOptions
        {
            DiscoveryTtl = discoveryTtl ?? TimeSpan.FromMinutes(10),
            WatchTimeout = watchTimeout ?? TimeSpan.FromMinutes(5),
        });
        var log = new ListLogger<KubernetesRunFollower>();
        var follower = new KubernetesRunFollower(client, new ApiDiscovery(client, options, TimeProvider.System), Options.Create(new ManifestOptions()),
            options, new RetryPolicy(10, TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(500), Random.Shared), TimeProvider.System, log, observer);
        if (start)
        {
            await follower.StartAsync(CancellationToken.None);
        }

        return new FollowerUnderTest(client, follower, observer, log);
    }

    public async ValueTask DisposeAsync()
    {
        await Follower.StopAsync(CancellationToken.None);
        Follower.Dispose();
        Client.Dispose();
    }
}
