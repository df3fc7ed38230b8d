using CiTrigger.Grains.GitHub;
using CiTrigger.Grains.Kubernetes;
using CiTrigger.Grains.Manifests;
using CiTrigger.Grains.Processing;
using k8s;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CiTrigger.Grains;

public static partial class ProcessingServiceCollectionExtensions
{
    /// <summary>
    /// What a silo needs to process ref events: validated options, GitHub (manifest source, reports), the
    /// Kubernetes (or dry-run) applier, and the start-up waker. Storage is added separately.
    /// </summary>
    public static IServiceCollection AddRefProcessing(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddValidatedOptions<HandlerOptions>(HandlerOptions.Section, o => o.Validate());
        services.AddValidatedOptions<KubernetesOptions>(KubernetesOptions.Section, o => o.Validate())
            .PostConfigure(o => o.KubeConfig ??= configuration["KUBECONFIG"] is { Length: > 0 } path ? path : null);
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<HandlerOptions>>().Value);

        services.AddGitHub(configuration);
        services.AddSingleton(CreateApplier);
        services.AddHostedService<ApplierStartup>();
        services.AddSingleton<EventProcessor>();
        services.AddSingleton(new ParsedManifestCache());
        services.AddSingleton<Telemetry.TriggerMetrics>();
        services.AddHostedService<PendingWorkWaker>();
        return services;
    }

    private static IManifestApplier CreateApplier(IServiceProvider sp)
    {
        var options = sp.GetRequiredService<IOptions<KubernetesOptions>>().Value;
        var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger("CiTrigger.Kubernetes");
        if (options.DryRun)
        {
            Log.DryRun(logger, "Kubernetes:DryRun=true");
            return ActivatorUtilities.CreateInstance<DryRunManifestApplier>(sp);
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
            return ActivatorUtilities.CreateInstance<DryRunManifestApplier>(sp);
        }

        Log.Cluster(logger, config.Host, source);
        var client = new k8s.Kubernetes(config);
        var discovery = new ApiDiscovery(client, sp.GetRequiredService<IOptions<KubernetesOptions>>(), sp.GetRequiredService<TimeProvider>());
        return new KubernetesManifestApplier(client, discovery, sp.GetRequiredService<IOptions<HandlerOptions>>());
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
