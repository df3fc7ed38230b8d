using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Pipeline;
using Microsoft.Extensions.Options;

namespace CiTrigger.Grains.GitHub;

/// <summary>
/// GitHub's per-run Git credentials (App mode): an installation token restricted to the event's repository and
/// <c>{"contents":"read"}</c>, user <c>x-access-token</c> as GitHub documents for cloning with an installation token,
/// for the web host of <c>GitHub:BaseUrl</c> (github.com, or the GitHub Enterprise host). The repository is always
/// the event's, for a pull request from a fork the base repository: no run gets a token with write rights, or one of
/// the fork.
/// </summary>
public sealed class GitHubRunCredentials(GitHubAccess github, IOptions<GitHubOptions> options) : IGitCredentials
{
    /// <summary>The user name GitHub takes with an installation token over HTTPS.</summary>
    public const string Username = "x-access-token";

    public bool Enabled => true;

    /// <summary>Where git reaches GitHub: <c>https://github.com</c>, or the scheme and host of a GitHub Enterprise <c>GitHub:BaseUrl</c>.</summary>
    public Uri Origin
    {
        get
        {
            var api = options.Value.ApiBase;
            return api.Host == "api.github.com" ? new Uri("https://github.com") : new Uri(api.GetLeftPart(UriPartial.Authority));
        }
    }

    public async Task<GitCredential> ReadOnlyAsync(string forge, string repository, long? installation, CancellationToken cancellationToken)
    {
        if (forge != ForgeNames.GitHub)
        {
            throw new PermanentException($"{repository} is a repository of {forge}, for which GitHub mints no token");
        }

        try
        {
            var token = await github.ReadOnlyTokenAsync(repository, installation, cancellationToken);
            return new GitCredential(Username, token.Token, Origin, token.ExpiresAt);
        }
        catch (GitHubAppException e)
        {
            var message = $"no read-only token for the run: {e.Message}";
            throw e.Permanent ? new PermanentException(message, e) : new TransientException(message, e);
        }
    }
}
