using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Manifests;
using CiTrigger.Grains.Pipeline;
using CiTrigger.Grains.Storage;
using CiTrigger.Grains.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace CiTrigger.Grains.Processing;

public static class ProcessingServiceCollectionExtensions
{
    /// <summary>
    /// What a silo needs to process ref events, whatever the adapters: validated options, the retry policy,
    /// the attempt pipeline, metrics, the start-up waker, the run observer and what every ref's parts share (<see cref="RefServices"/>). The manifest source, the applier and the
    /// storage come from their own folders' registrations.
    /// </summary>
    public static IServiceCollection AddRefProcessing(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddValidatedOptions<QueueOptions>(QueueOptions.Section, o => o.Validate());
        services.AddValidatedOptions<RetryOptions>(RetryOptions.Section, o => o.Validate());
        services.AddValidatedOptions<ManifestOptions>(ManifestOptions.Section, o => o.Validate());
        services.AddValidatedOptions<RunOptions>(RunOptions.Section, o => o.Validate());
        services.AddValidatedOptions<DeliveryIndexOptions>(DeliveryIndexOptions.Section, o => o.Validate());
        services.AddSingleton<RetryPolicy>();
        services.AddSingleton(new ParsedManifestCache());
        services.AddSingleton<EventProcessor>();
        services.AddSingleton<AttemptRunner>();
        services.AddSingleton<TriggerMetrics>();
        services.TryAddSingleton<IResultReporter, NoResultReports>();

        // The forge adapter registers its own; without one, no changed-file set is known (path rules hold).
        services.TryAddSingleton<IChangedFiles, UnknownChangedFiles>();

        // The cluster adapter registers its follower in place of this when it follows runs.
        services.TryAddSingleton<IRunControl, NoRunControl>();
        services.TryAddSingleton<IRepositorySettings>(NoRepositorySettings.Instance);
        services.TryAddSingleton<IRunSlots, GrainRunSlots>();

        // Likewise its pruner (keepRuns), with a cluster.
        services.TryAddSingleton<IRunPruner>(NoRunPruner.Instance);

        // The forge and cluster adapters register theirs in place of these; without both, runs get no Git credentials.
        services.TryAddSingleton<IGitCredentials, NoGitCredentials>();
        services.TryAddSingleton<IRunSecrets, NoRunSecrets>();
        services.AddSingleton<RunCredentials>();
        services.AddSingleton<IRunObserver, RunObserver>();
        services.AddSingleton(sp => new RefServices(
            sp.GetRequiredService<IRefCatalog>(),
            sp.GetRequiredService<RetryPolicy>(),
            sp.GetRequiredService<TriggerMetrics>(),
            sp.GetRequiredService<IResultReporter>(),
            sp.GetRequiredService<IRunControl>(),
            sp.GetRequiredService<IOptions<QueueOptions>>().Value,
            sp.GetRequiredService<IOptions<RunOptions>>().Value,
            sp.GetRequiredService<TimeProvider>())
        {
            PipelineMode = !sp.GetRequiredService<IOptions<ManifestOptions>>().Value.SingleFile,
            Pruner = sp.GetRequiredService<IRunPruner>(),
            Repositories = sp.GetRequiredService<IRepositorySettings>(),
            RunSlots = sp.GetRequiredService<IRunSlots>(),
            Credentials = sp.GetRequiredService<RunCredentials>(),
        });
        services.AddHostedService<PendingWorkWaker>();
        return services;
    }
}
