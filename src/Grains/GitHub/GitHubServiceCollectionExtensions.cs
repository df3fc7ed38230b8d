using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Manifests;
using CiTrigger.Grains.Pipeline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CiTrigger.Grains.GitHub;

public static class GitHubServiceCollectionExtensions
{
    /// <summary>GitHub as the manifest source, and as the place statuses go when <c>GitHub:ReportStatus</c> is on.</summary>
    public static IServiceCollection AddGitHub(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<GitHubOptions>(GitHubOptions.Section, o => o.Validate())
            .PostConfigure(o => o.Token ??= configuration["GITHUB_TOKEN"]);
        services.AddSingleton(sp =>
        {
            var github = sp.GetRequiredService<IOptions<GitHubOptions>>().Value;
            return GitHubClientFactory.Create(github, github.Token, sp.GetRequiredService<IOptions<ManifestOptions>>().Value.MaxManifestBytes);
        });
        services.AddHostedService<GitHubStartup>();
        services.AddSingleton<IManifestSource, GitHubManifestSource>();
        services.AddSingleton<GitHubCommitStatusReporter>();
        services.AddHostedService(sp => sp.GetRequiredService<GitHubCommitStatusReporter>());
        services.AddSingleton<ICommitStatusReporter>(sp => sp.GetRequiredService<IOptions<GitHubOptions>>().Value.ReportStatus
            ? sp.GetRequiredService<GitHubCommitStatusReporter>()
            : new NoCommitStatuses());
        return services;
    }
}
