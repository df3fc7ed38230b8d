using System.Collections.Concurrent;
using CiTrigger.Grains.Abstractions;
using Octokit;

namespace CiTrigger.Grains.GitHub;

/// <summary>
/// Who the service is to GitHub, and the client to call GitHub with for a repository. Token mode: one
/// client with <c>GitHub:Token</c>. App mode: a client per installation whose every request carries that
/// installation's token (see <see cref="InstallationAuthentication"/>); the installation comes from the
/// event's payload, else from <c>GET /repos/{owner}/{repo}/installation</c> with the App's JWT.
/// </summary>
public sealed class GitHubAccess
{
    // A repository's installation changes only when the App is uninstalled and installed again.
    private static readonly TimeSpan LookupLifetime = TimeSpan.FromHours(1);

    private readonly IGitHubClient? token;
    private readonly InstallationTokens? tokens;
    private readonly Func<DelegatingHandler, IGitHubClient>? create;
    private readonly TimeProvider time;
    private readonly ConcurrentDictionary<long, IGitHubClient> installations = new();
    private readonly Dictionary<string, (Task<long> Id, DateTimeOffset At)> lookups = new(StringComparer.OrdinalIgnoreCase);
    private readonly Lock gate = new();

    /// <summary>Token mode.</summary>
    public GitHubAccess(IGitHubClient token, TimeProvider time)
    {
        this.token = token;
        this.time = time;
    }

    /// <summary>App mode.</summary>
    /// <param name="app">A client authenticated as the App (its JWT).</param>
    /// <param name="tokens">The App's installation tokens.</param>
    /// <param name="create">Builds a client whose requests pass through the given authentication handler.</param>
    /// <param name="time">The clock.</param>
    public GitHubAccess(IGitHubClient app, InstallationTokens tokens, Func<DelegatingHandler, IGitHubClient> create, TimeProvider time)
    {
        App = app;
        this.tokens = tokens;
        this.create = create;
        this.time = time;
    }

    public bool IsApp => App is not null;

    /// <summary>The client that authenticates as the App itself; null in token mode.</summary>
    public IGitHubClient? App { get; }

    /// <summary>The client for calls about <paramref name="repository"/> (<c>owner/name</c>).</summary>
    /// <param name="repository">The repository.</param>
    /// <param name="installation">The installation id the event's payload named, if any.</param>
    /// <param name="cancellationToken">Cancels the wait for an installation lookup.</param>
    public async Task<IGitHubClient> ForRepositoryAsync(string repository, long? installation, CancellationToken cancellationToken)
    {
        if (token is not null)
        {
            return token;
        }

        return ForInstallation(await InstallationOfAsync(repository, installation, cancellationToken));
    }

    /// <summary>
    /// App mode: a new token that can only read the contents of <paramref name="repository"/>
    /// (<see cref="InstallationTokens.MintReadOnlyAsync"/>), for a run to clone with; never one of the service's own.
    /// </summary>
    /// <param name="repository">The repository (<c>owner/name</c>).</param>
    /// <param name="installation">The installation id the event's payload named, if any.</param>
    /// <param name="cancellationToken">Cancels the lookup and the request.</param>
    public async Task<InstallationToken> ReadOnlyTokenAsync(string repository, long? installation, CancellationToken cancellationToken)
    {
        if (tokens is null)
        {
            throw new InvalidOperationException("read-only tokens of one repository exist only in App mode");
        }

        var id = await InstallationOfAsync(repository, installation, cancellationToken);
        return await tokens.MintReadOnlyAsync(id, Names.SplitRepository(repository).Name, cancellationToken);
    }

    private async Task<long> InstallationOfAsync(string repository, long? installation, CancellationToken cancellationToken) =>
        installation is > 0 ? installation.Value : await LookUpAsync(repository).WaitAsync(cancellationToken);

    public IGitHubClient ForInstallation(long installation) =>
        installations.GetOrAdd(installation, id => create!(new InstallationAuthentication(id, tokens!)));

    private Task<long> LookUpAsync(string repository)
    {
        var now = time.GetUtcNow();
        TaskCompletionSource<long> finding;
        Task<long> found;
        lock (gate)
        {
            if (lookups.TryGetValue(repository, out var old) && !old.Id.IsFaulted && !old.Id.IsCanceled && now - old.At <= LookupLifetime)
            {
                return old.Id;
            }

            finding = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            found = finding.Task;
            lookups[repository] = (found, now);
        }

        _ = FillAsync(repository, finding);
        return found;
    }

    private async Task FillAsync(string repository, TaskCompletionSource<long> result)
    {
        var (owner, name) = Names.SplitRepository(repository);
        try
        {
            var found = await App!.GitHubApps.GetRepositoryInstallationForCurrent(owner, name);
            result.SetResult(found.Id);
        }
        catch (NotFoundException e)
        {
            result.SetException(new GitHubAppException($"the GitHub App is not installed on {repository}", e, permanent: true));
        }
        catch (Exception e)
        {
            var status = e is ApiException api ? $"{(int)api.StatusCode} " : "";
            result.SetException(new GitHubAppException($"GitHub did not say which installation of the App covers {repository}: {status}{e.Message}", e, permanent: false));
        }
    }
}
