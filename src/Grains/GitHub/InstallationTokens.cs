using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Octokit;

namespace CiTrigger.Grains.GitHub;

/// <summary>An installation access token and when GitHub lets it expire.</summary>
public sealed record InstallationToken(string Token, DateTimeOffset ExpiresAt);

/// <summary>
/// Installation tokens of the App, one per installation, kept until <see cref="RefreshBefore"/> their
/// expiry. Callers of one installation that arrive while a token is being requested wait for that same
/// request; a failed request is not kept, so the next caller asks again.
/// </summary>
public sealed partial class InstallationTokens(IGitHubClient app, TimeProvider time, ILogger<InstallationTokens> logger)
{
    public static readonly TimeSpan RefreshBefore = TimeSpan.FromMinutes(5);

    private readonly Dictionary<long, Task<InstallationToken>> tokens = [];
    private readonly Lock gate = new();

    public Task<InstallationToken> GetAsync(long installation, CancellationToken cancellationToken)
    {
        Task<InstallationToken>? cached;
        TaskCompletionSource<InstallationToken>? minting = null;
        lock (gate)
        {
            if (!tokens.TryGetValue(installation, out cached) || IsStale(cached))
            {
                minting = new TaskCompletionSource<InstallationToken>(TaskCreationOptions.RunContinuationsAsynchronously);
                cached = tokens[installation] = minting.Task;
            }
        }

        if (minting is not null)
        {
            // Not tied to this caller's cancellation: others may be waiting for the same token.
            _ = MintAsync(installation, minting);
        }

        return cached.WaitAsync(cancellationToken);
    }

    /// <summary>Forgets <paramref name="token"/> after GitHub refused it, unless a newer one replaced it already.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "VSTHRD002", Justification = "Result is read only after IsCompletedSuccessfully.")]
    public void Invalidate(long installation, string token)
    {
        lock (gate)
        {
            if (tokens.TryGetValue(installation, out var cached) && cached.IsCompletedSuccessfully && cached.Result.Token == token)
            {
                tokens.Remove(installation);
                Log.Refused(logger, installation);
            }
        }
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "VSTHRD002", Justification = "Result is read only after IsCompletedSuccessfully.")]
    private bool IsStale(Task<InstallationToken> cached) =>
        cached.IsCompleted && (!cached.IsCompletedSuccessfully || cached.Result.ExpiresAt - RefreshBefore <= time.GetUtcNow());

    private async Task MintAsync(long installation, TaskCompletionSource<InstallationToken> result)
    {
        try
        {
            var token = await app.GitHubApps.CreateInstallationToken(installation);
            Log.Issued(logger, installation, token.ExpiresAt);
            result.SetResult(new InstallationToken(token.Token, token.ExpiresAt));
        }
        catch (NotFoundException e)
        {
            result.SetException(new GitHubAppException($"installation {installation} of the GitHub App does not exist (was the App uninstalled?)", e, permanent: true));
        }
        catch (ApiException e)
        {
            result.SetException(new GitHubAppException($"GitHub refused an installation token for installation {installation}: {(int)e.StatusCode} {e.Message}", e, permanent: false));
        }
        catch (Exception e)
        {
            result.SetException(new GitHubAppException($"no installation token for installation {installation}: {e.Message}", e, permanent: false));
        }
    }

    /// <summary>
    /// A new token of the installation that can do nothing but read the contents of one of its repositories:
    /// <c>POST /app/installations/{id}/access_tokens</c> with <c>repositories</c> = [<paramref name="repositoryName"/>]
    /// and <c>permissions</c> = <c>{"contents":"read"}</c> (GitHub adds <c>metadata: read</c>, which every token
    /// has). Never kept and never shared: each caller gets a token of its own, and none of the service's own tokens.
    /// </summary>
    /// <param name="installation">The installation of the repository.</param>
    /// <param name="repositoryName">The repository's name without its owner, as GitHub's <c>repositories</c> takes it.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    public async Task<InstallationToken> MintReadOnlyAsync(long installation, string repositoryName, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["repositories"] = new JsonArray(repositoryName),
            ["permissions"] = new JsonObject { ["contents"] = "read" },
        };
        try
        {
            // Octokit's CreateInstallationToken sends no body; a string body is sent as it is.
            var answer = await app.Connection.Post<AccessToken>(ApiUrls.AccessTokens(installation), body.ToJsonString(),
                "application/vnd.github+json", "application/json", parameters: null, cancellationToken);
            var token = answer.Body;
            Log.IssuedReadOnly(logger, installation, repositoryName, token.ExpiresAt);
            return new InstallationToken(token.Token, token.ExpiresAt);
        }
        catch (NotFoundException e)
        {
            throw new GitHubAppException($"installation {installation} of the GitHub App does not exist (was the App uninstalled?)", e, permanent: true);
        }
        catch (ApiValidationException e)
        {
            // 422: the repository is not one of the installation's, or the App was not granted Contents: read.
            throw new GitHubAppException($"GitHub refused a read-only token of {repositoryName} for installation {installation}: {(int)e.StatusCode} {e.Message}", e, permanent: true);
        }
        catch (ApiException e)
        {
            throw new GitHubAppException($"GitHub refused a read-only token of {repositoryName} for installation {installation}: {(int)e.StatusCode} {e.Message}", e, permanent: false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new GitHubAppException($"no read-only token of {repositoryName} for installation {installation}: {e.Message}", e, permanent: false);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(170, LogLevel.Debug, "Read-only token of {Repository} (installation {Installation}) issued for a run, expires at {ExpiresAt}")]
        public static partial void IssuedReadOnly(ILogger logger, long installation, string repository, DateTimeOffset expiresAt);

        [LoggerMessage(54, LogLevel.Debug, "Installation token for installation {Installation} issued, expires at {ExpiresAt}")]
        public static partial void Issued(ILogger logger, long installation, DateTimeOffset expiresAt);

        [LoggerMessage(55, LogLevel.Information, "GitHub refused the installation token of installation {Installation}; asking for a new one")]
        public static partial void Refused(ILogger logger, long installation);
    }
}

/// <summary>The App cannot act for a repository: not installed there, or no token to be had.</summary>
public sealed class GitHubAppException(string message, Exception? inner, bool permanent) : Exception(message, inner)
{
    /// <summary>True when trying again will not help (the App is not installed).</summary>
    public bool Permanent { get; } = permanent;
}
