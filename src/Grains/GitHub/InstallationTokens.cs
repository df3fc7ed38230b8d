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

    private static partial class Log
    {
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
