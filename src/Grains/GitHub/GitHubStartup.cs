using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CiTrigger.Grains.GitHub;

/// <summary>Says at start-up how the service will talk to GitHub, so a newcomer is not surprised by rate limits.</summary>
internal sealed partial class GitHubStartup(IOptions<GitHubOptions> options, ILogger<GitHubStartup> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var github = options.Value;
        if (string.IsNullOrEmpty(github.Token))
        {
            Log.Anonymous(logger, github.ApiBase);
        }
        else
        {
            Log.WithToken(logger, github.ApiBase);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static partial class Log
    {
        [LoggerMessage(56, LogLevel.Warning, "No GitHub token (GitHub:Token or GITHUB_TOKEN): GitHub at {ApiBase} is used anonymously, which allows 60 requests an hour and public repositories only")]
        public static partial void Anonymous(ILogger logger, Uri apiBase);

        [LoggerMessage(57, LogLevel.Information, "GitHub at {ApiBase} is used with a token")]
        public static partial void WithToken(ILogger logger, Uri apiBase);
    }
}
