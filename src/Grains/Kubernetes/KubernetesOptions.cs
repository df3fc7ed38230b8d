namespace CiTrigger.Grains.Kubernetes;

/// <summary>Which cluster manifests are applied to, or dry-run.</summary>
public sealed class KubernetesOptions
{
    public const string Section = "Kubernetes";

    /// <summary>
    /// Path of a kubeconfig file; <c>KUBECONFIG</c> from the environment when unset. Without either, the
    /// in-cluster configuration inside a pod, else <c>~/.kube/config</c>, else dry-run.
    /// </summary>
    public string? KubeConfig { get; set; }

    /// <summary>Record what would be applied and apply nothing.</summary>
    public bool DryRun { get; set; }

    /// <summary>How long discovered API resources are trusted before they are asked for again.</summary>
    public TimeSpan DiscoveryTtl { get; set; } = TimeSpan.FromMinutes(10);

    public IEnumerable<string> Validate()
    {
        if (!string.IsNullOrWhiteSpace(KubeConfig) && !File.Exists(KubeConfig))
        {
            yield return $"{Section}:KubeConfig: the file '{KubeConfig}' does not exist";
        }

        if (DiscoveryTtl <= TimeSpan.Zero)
        {
            yield return $"{Section}:DiscoveryTtl: must be positive";
        }
    }
}
