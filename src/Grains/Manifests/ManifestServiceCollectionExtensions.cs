using CiTrigger.Grains.Pipeline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace CiTrigger.Grains.Manifests;

public static class ManifestServiceCollectionExtensions
{
    /// <summary>
    /// With <c>Handler:LocalManifests</c> set, manifests come from that directory (<see cref="LocalManifestSource"/>)
    /// in place of the manifest source registered before, and no event's changed files are known
    /// (<see cref="UnknownChangedFiles"/> in place of GitHub's: there is no repository to compare); without it nothing
    /// changes. Everything else that talks to GitHub (statuses, check runs, delivery recovery) stays as configured.
    /// </summary>
    public static IServiceCollection AddLocalManifests(this IServiceCollection services, IConfiguration configuration)
    {
        if (string.IsNullOrWhiteSpace(configuration[$"{ManifestOptions.Section}:{nameof(ManifestOptions.LocalManifests)}"]))
        {
            return services;
        }

        services.AddSingleton<LocalManifestSource>();
        services.Replace(ServiceDescriptor.Singleton<IManifestSource>(sp => sp.GetRequiredService<LocalManifestSource>()));
        services.AddHostedService(sp => sp.GetRequiredService<LocalManifestSource>());
        services.Replace(ServiceDescriptor.Singleton<IChangedFiles, UnknownChangedFiles>());
        return services;
    }
}
