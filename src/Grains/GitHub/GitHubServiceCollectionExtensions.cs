using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Manifests;
using CiTrigger.Grains.Pipeline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Octokit;

namespace CiTrigger.Grains.GitHub;

public static class GitHubServiceCollectionExtensions
{
    /// <summary>
    /// Everything that talks to GitHub: the identity (token or App), the manifest source and an event's changed files, users' permissions, the report of
    /// each event (commit statuses in token mode, check runs in App mode, nothing without
    /// <c>GitHub:ReportStatus</c>), the recovery of missed deliveries, and in App mode the runs' read-only tokens
    /// (<see cref="GitHubRunCredentials"/>, unless <c>Handler:RunCredentials=false</c>).
    /// </summary>
    public static IServiceCollection AddGitHub(this IServiceCollection services, IConfiguration configuration)
    {
        var isApp = !string.IsNullOrWhiteSpace(configuration[$"{GitHubOptions.Section}:AppId"]);
        services.AddValidatedOptions<GitHubOptions>(GitHubOptions.Section, o => o.Validate())
            .PostConfigure(o => o.Token ??= configuration["GITHUB_TOKEN"]);
        services.AddValidatedOptions<GitHubAppOptions>(GitHubOptions.Section, o => o.Validate());
        services.AddValidatedOptions<DeliveryRecoveryOptions>(GitHubOptions.Section, o => o.Validate(isApp));
        services.AddValidatedOptions<RunCredentialOptions>(RunCredentialOptions.Section, o => o.Validate(isApp));
        services.AddSingleton<IGitCredentials>(sp =>
            sp.GetRequiredService<IOptions<GitHubAppOptions>>().Value.IsApp && sp.GetRequiredService<IOptions<RunCredentialOptions>>().Value.Enabled(isApp: true)
                ? ActivatorUtilities.CreateInstance<GitHubRunCredentials>(sp)
                : new NoGitCredentials());
        services.AddSingleton(sp =>
        {
            var github = sp.GetRequiredService<IOptions<GitHubOptions>>().Value;
            return GitHubClientFactory.Create(github, github.Token, sp.GetRequiredService<IOptions<ManifestOptions>>().Value.MaxManifestBytes);
        });
        services.AddHostedService<GitHubStartup>();
        services.AddSingleton(CreateAccess);
        services.AddSingleton<IManifestSource, GitHubManifestSource>();
        services.AddSingleton<IChangedFiles, GitHubChangedFiles>();
        services.AddSingleton<IRepositoryPermissions, GitHubRepositoryPermissions>();
        services.AddSingleton<GitHubCommitStatusReporter>();
        services.AddHostedService(sp => sp.GetRequiredService<GitHubCommitStatusReporter>());
        services.AddSingleton<GitHubCheckRunReporter>();
        services.AddHostedService(sp => sp.GetRequiredService<GitHubCheckRunReporter>());
        services.AddSingleton<IResultReporter>(sp =>
            !sp.GetRequiredService<IOptions<GitHubOptions>>().Value.ReportStatus ? new NoResultReports()
            : sp.GetRequiredService<IOptions<GitHubAppOptions>>().Value.IsApp ? sp.GetRequiredService<GitHubCheckRunReporter>()
            : sp.GetRequiredService<GitHubCommitStatusReporter>());
        services.AddHostedService<DeliveryRecoveryStarter>();
        return services;
    }

    private static GitHubAccess CreateAccess(IServiceProvider sp)
    {
        var github = sp.GetRequiredService<IOptions<GitHubOptions>>().Value;
        var app = sp.GetRequiredService<IOptions<GitHubAppOptions>>().Value;
        var time = sp.GetRequiredService<TimeProvider>();
        if (!app.IsApp)
        {
            return new GitHubAccess(sp.GetRequiredService<IGitHubClient>(), time);
        }

        var maxBytes = sp.GetRequiredService<IOptions<ManifestOptions>>().Value.MaxManifestBytes;
        var appClient = GitHubClientFactory.Create(github, new AppAuthentication(new GitHubAppJwt(app.Id, app.LoadKey(), time)), maxBytes);
        var tokens = new InstallationTokens(appClient, time, sp.GetRequiredService<ILogger<InstallationTokens>>());
        return new GitHubAccess(appClient, tokens, authentication => GitHubClientFactory.Create(github, authentication, maxBytes), time);
    }
}
