using k8s;

namespace CiTrigger.Grains.Kubernetes;

/// <summary>
/// The cluster the service talks to, shared by the applier and the run follower, or none (dry-run):
/// one client, one discovery cache, one way of authenticating (kubeconfig, in-cluster, anonymous).
/// </summary>
public sealed class KubernetesCluster(IKubernetes? client, ApiDiscovery? discovery)
{
    public static KubernetesCluster None { get; } = new(null, null);

    /// <summary>Null in dry-run.</summary>
    public IKubernetes? Client { get; } = client;

    public ApiDiscovery? Discovery { get; } = discovery;
}
