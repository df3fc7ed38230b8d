using k8s;
using k8s.KubeConfigModels;

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
            return FromFile(kubeConfig, out source);
        }

        if (KubernetesClientConfiguration.IsInCluster())
        {
            source = "in-cluster service account";
            return KubernetesClientConfiguration.InClusterConfig();
        }

        var home = Path.Combine(homeDirectory ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".kube", "config");
        if (File.Exists(home))
        {
            return FromFile(home, out source);
        }

        source = "no kubeconfig, not in a pod, no ~/.kube/config";
        return null;
    }

    private static KubernetesClientConfiguration FromFile(string path, out string source)
    {
        var config = KubernetesClientConfiguration.LoadKubeConfig(path);
        source = WithoutCredentials(config) ? $"{path}, without credentials (anonymous, as through kubectl proxy)" : path;
        return KubernetesClientConfiguration.BuildConfigFromConfigObject(config);
    }

    /// <summary>
    /// kubectl sends no credentials for a context whose user has none, which is how a kubeconfig for
    /// <c>kubectl proxy</c> (<c>server: http://127.0.0.1:8001</c>) looks; KubernetesClient refuses such a
    /// user outright. Detaching the empty user from the current context gives the same anonymous access.
    /// </summary>
    private static bool WithoutCredentials(K8SConfiguration config)
    {
        var context = config.Contexts?.FirstOrDefault(c => string.Equals(c.Name, config.CurrentContext, StringComparison.OrdinalIgnoreCase))?.ContextDetails;
        if (context is null)
        {
            return false;
        }

        if (string.IsNullOrWhiteSpace(context.User))
        {
            return true;
        }

        var user = config.Users?.FirstOrDefault(u => string.Equals(u.Name, context.User, StringComparison.OrdinalIgnoreCase));
        if (user is null || !IsEmpty(user.UserCredentials))
        {
            return false;
        }

        context.User = null;
        return true;
    }

    private static bool IsEmpty(UserCredentials? credentials) =>
        credentials is null
        || (new[] { credentials.Token, credentials.UserName, credentials.Password, credentials.ClientCertificate, credentials.ClientCertificateData, credentials.ClientKey, credentials.ClientKeyData }
                .All(string.IsNullOrWhiteSpace)
            && credentials.AuthProvider is null && credentials.ExternalExecution is null);
}
