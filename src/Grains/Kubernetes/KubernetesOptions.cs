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

    /// <summary>
    /// Follow the run objects events create (Workflows, Jobs, PipelineRuns, TaskRuns) until they finish, so
    /// checks report the run's result. Off: an event is complete once applied, as in dry-run.
    /// </summary>
    public bool FollowRuns { get; set; } = true;

    /// <summary>
    /// How long one watch of run objects lasts before the server ends it and it is opened again from where
    /// it stopped (kube-apiserver's own default is 30 to 60 minutes; a shorter one notices a dead
    /// connection sooner).
    /// </summary>
    public TimeSpan WatchTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Where the <c>Repository</c> objects are read from: the service's own namespace (<c>POD_NAMESPACE</c> in a pod), else <c>Handler:Namespace</c>.
    /// </summary>
    public string? RepositoryNamespace { get; set; }

    public IEnumerable<string> Validate()
    {
        if (RepositoryNamespace is not null && !Manifests.KubernetesNames.IsDnsLabel(RepositoryNamespace))
        {
            yield return $"{Section}:RepositoryNamespace: '{RepositoryNamespace}' is not a valid namespace name";
        }

        if (!string.IsNullOrWhiteSpace(KubeConfig) && !File.Exists(KubeConfig))
        {
            yield return $"{Section}:KubeConfig: the file '{KubeConfig}' does not exist";
        }

        if (DiscoveryTtl <= TimeSpan.Zero)
        {
            yield return $"{Section}:DiscoveryTtl: must be positive";
        }

        if (WatchTimeout < TimeSpan.FromSeconds(1))
        {
            yield return $"{Section}:WatchTimeout: must be at least 1 s";
        }
    }
}
