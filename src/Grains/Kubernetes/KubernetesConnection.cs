using k8s;

namespace CiTrigger.Grains.Kubernetes;

/// <summary>Finds the cluster configuration the design promises, in its order of preference.</summary>
public static class KubernetesConnection
{
    /// <summary>The configuration to use, or null (with the reason) when there is none.</summary>
    public static KubernetesClientConfiguration? TryLoad(string? kubeConfig, out string source)
    {
        if (!string.IsNullOrWhiteSpace(kubeConfig))
        {
            source = kubeConfig;
            return KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeConfig);
        }

        if (KubernetesClientConfiguration.IsInCluster())
        {
            source = "in-cluster service account";
            return KubernetesClientConfiguration.InClusterConfig();
        }

        var home = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".kube", "config");
        if (File.Exists(home))
        {
            source = home;
            return KubernetesClientConfiguration.BuildConfigFromConfigFile(home);
        }

        source = "no kubeconfig, not in a pod, no ~/.kube/config";
        return null;
    }
}
