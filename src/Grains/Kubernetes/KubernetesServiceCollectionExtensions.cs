using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Manifests;
using CiTrigger.Grains.Pipeline;
using k8s;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CiTrigger.Grains.Kubernetes;

public static partial class KubernetesServiceCollectionExtensions
{
    /// <summary>
    /// The cluster manifests are applied to, found the way the design promises (explicit kubeconfig,
    /// in-cluster, ~/.kube/config), or dry-run. The applier is built when the host starts. With a cluster,
    /// <see cref="KubernetesRunFollower"/> is the <see cref="IRunControl"/> and follows run objects for the
    /// <see cref="IRunObserver"/> the processing side registers; in dry-run or with <c>Kubernetes:FollowRuns=false</c> <see cref="NoRunControl"/> is.
    /// With a cluster, <see cref="RepositoryWatcher"/> is the <see cref="IRepositorySettings"/>.
    /// With a cluster, <see cref="KubernetesRunPruner"/> deletes finished run objects beyond a repository's <c>keepRuns</c>; in dry-run <see cref="NoRunPruner"/> deletes nothing.
    /// With a cluster and <c>Handler:LogSnippets</c> (on by default), <see cref="KubernetesRunLogs"/> reads why a run failed.
    /// With a cluster, <see cref="KubernetesRunSecrets"/> keeps the runs' Git credentials; in dry-run <see cref="NoRunSecrets"/> (none).
    /// </summary>
    public static IServiceCollection AddKubernetes(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<KubernetesOptions>(KubernetesOptions.Section, o => o.Validate())
            .PostConfigure(o =>
            {
                o.KubeConfig ??= configuration["KUBECONFIG"] is { Length: > 0 } path ? path : null;
                o.RepositoryNamespace ??= configuration["POD_NAMESPACE"] is { Length: > 0 } ns ? ns : null;
            });
        services.AddSingleton(CreateCluster);
        services.AddSingleton(sp => sp.GetRequiredService<KubernetesCluster>() is { Client: { } client, Discovery: { } discovery }
            ? new KubernetesManifestApplier(client, discovery, sp.GetRequiredService<IOptions<ManifestOptions>>(), sp.GetRequiredService<IRepositorySettings>())
            : (IManifestApplier)ActivatorUtilities.CreateInstance<DryRunManifestApplier>(sp));
        services.AddSingleton(sp => sp.GetRequiredService<KubernetesCluster>() is { Client: { } client }
            ? ActivatorUtilities.CreateInstance<KubernetesRunSecrets>(sp, client)
            : (IRunSecrets)new NoRunSecrets());
        services.AddSingleton(sp => sp.GetRequiredService<KubernetesCluster>() is { Client: { } client, Discovery: { } discovery }
                && sp.GetRequiredService<IOptions<KubernetesOptions>>().Value.FollowRuns
            ? ActivatorUtilities.CreateInstance<KubernetesRunFollower>(sp, client, discovery)
            : (IRunControl)new NoRunControl());
        services.AddSingleton(sp => sp.GetRequiredService<KubernetesCluster>() is { Client: { } client, Discovery: { } discovery }
            ? ActivatorUtilities.CreateInstance<KubernetesRunPruner>(sp, client, discovery)
            : (IRunPruner)NoRunPruner.Instance);
        services.AddValidatedOptions<RunLogOptions>(RunLogOptions.Section, _ => []);
        services.AddSingleton(sp => sp.GetRequiredService<KubernetesCluster>() is { Client: { } client }
                && sp.GetRequiredService<IOptions<RunLogOptions>>().Value.LogSnippets
            ? ActivatorUtilities.CreateInstance<KubernetesRunLogs>(sp, client)
            : (IRunLogs)new NoRunLogs());
        services.AddSingleton(sp => sp.GetRequiredService<KubernetesCluster>() is { Client: { } client }
            ? ActivatorUtilities.CreateInstance<RepositoryWatcher>(sp, client)
            : (IRepositorySettings)NoRepositorySettings.Instance);
        services.AddHostedService<ApplierStartup>();
        services.AddHostedService<StartedWithHost<IRepositorySettings>>();
        services.AddHostedService<StartedWithHost<IRunControl>>();
        return services;
    }

    private static KubernetesCluster CreateCluster(IServiceProvider sp)
    {
        var options = sp.GetRequiredService<IOptions<KubernetesOptions>>().Value;
        var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger("CiTrigger.Kubernetes");
        if (options.DryRun)
        {
            Log.DryRun(logger, "Kubernetes:DryRun=true");
            return KubernetesCluster.None;
        }

        KubernetesClientConfiguration? config;
        string source;
        try
        {
            config = KubernetesConnection.TryLoad(options.KubeConfig, homeDirectory: null, out source);
        }
        catch (Exception e) when (e is not OptionsValidationException)
        {
            throw new OptionsValidationException(KubernetesOptions.Section, typeof(KubernetesOptions),
                [$"{KubernetesOptions.Section}:KubeConfig: the cluster configuration ({options.KubeConfig ?? "found by default"}) cannot be used: {e.Message}"]);
        }

        if (config is null)
        {
            Log.NoCluster(logger, source);
            return KubernetesCluster.None;
        }

        Log.Cluster(logger, config.Host, source);
        var client = new k8s.Kubernetes(config);
        return new KubernetesCluster(client, new ApiDiscovery(client, sp.GetRequiredService<IOptions<KubernetesOptions>>(), sp.GetRequiredService<TimeProvider>()));
    }

    private static partial class Log
    {
        [LoggerMessage(40, LogLevel.Warning, "Dry run ({Reason}): manifests are recorded, not applied")]
        public static partial void DryRun(ILogger logger, string reason);

        [LoggerMessage(41, LogLevel.Warning, "No cluster configuration found ({Source}); running as Kubernetes:DryRun=true: manifests are recorded, not applied")]
        public static partial void NoCluster(ILogger logger, string source);

        [LoggerMessage(42, LogLevel.Information, "Applying manifests to {Host} (configuration from {Source})")]
        public static partial void Cluster(ILogger logger, string host, string source);
    }
}
