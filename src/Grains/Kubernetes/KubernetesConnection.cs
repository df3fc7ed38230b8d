using k8s;

namespace CiTrigger.Grains.Kubernetes;

/// <summary>Finds the cluster configuration the design promises, in its order of preference.</summary>
public static class KubernetesConnection
{
    /// <summary>The configuration to use, or null (with the reason) when there is none.</summary>
    /// <param name="kubeConfig">An explicit kubeconfig path (Kubernetes:KubeConfig or KUBECONFIG).</param>
    /// <param name="homeDirectory">Where to look for .kube/config; the user's home directory by default.</param>
    /// <param name="source">Where the configuration came from, or why there is none.</param>
    public static KubernetesClientConfiguration? TryLoad(string? kubeConfig, string? homeDirectory, out string source)
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

        var home = Path.Combine(homeDirectory ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".kube", "config");
        if (File.Exists(home))
        {
            source = home;
            return KubernetesClientConfiguration.BuildConfigFromConfigFile(home);
        }

        source = "no kubeconfig, not in a pod, no ~/.kube/config";
        return null;
    }
}
