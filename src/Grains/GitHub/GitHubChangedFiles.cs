using System.Globalization;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Pipeline;
using Microsoft.Extensions.Logging;
using Octokit;

namespace CiTrigger.Grains.GitHub;

/// <summary>
/// The files an event changed, as GitHub knows them: between two commits through the compare API (whose list
/// stops at 300 files for the whole comparison), of a pull request through its files API (100 a page, at most
/// 3,000). A list that may have been cut short is unknown (null), and so is one GitHub would not give after a
/// few attempts (a warning says why): a pipeline is never skipped on a partial list.
/// </summary>
public sealed partial class GitHubChangedFiles(GitHubAccess github, RetryPolicy retryPolicy, TimeProvider time, ILogger<GitHubChangedFiles> logger) : IChangedFiles
{
    /// <summary>The most files the compare API lists for a comparison.</summary>
    public const int MaxCompareFiles = 300;

    /// <summary>The most files the pull request files API lists.</summary>
    public const int MaxPullRequestFiles = 3_000;

    private readonly RetryPolicy retry = retryPolicy.ForReports();

    public async Task<IReadOnlyList<string>?> BetweenAsync(string forge, string repository, long? installation, string before, string after, CancellationToken cancellationToken)
    {
        if (forge != ForgeNames.GitHub || before.Length == 0 || after.Length == 0 || GitSha.IsZero(before) || GitSha.IsZero(after))
        {
            return null;
        }

        var (owner, name) = Names.SplitRepository(repository);

        // The files come on the first page only, whatever its size: one commit a page keeps the answer small.
        var uri = new Uri($"repos/{owner}/{name}/compare/{Uri.EscapeDataString(before)}...{Uri.EscapeDataString(after)}", UriKind.Relative);
        var parameters = new Dictionary<string, string> { ["per_page"] = "1" };
        CompareResult? comparison = null;
        var failure = await retry.RunAsync(async ct =>
        {
            var client = await ForRepositoryAsync(repository, installation, ct);
            comparison = (await Classified(client.Connection.Get<CompareResult>(uri, parameters), $"to compare {before}...{after} in {repository}").WaitAsync(ct)).Body;
        }, time, cancellationToken);
        if (failure is not null)
        {
            Log.CompareFailed(logger, repository, before, after, failure.Message);
            return null;
        }

        return comparison?.Files is { } files && files.Count < MaxCompareFiles
            ? FileNames(files.Select(f => (f.Filename, (string?)f.PreviousFileName)))
            : null;
    }

    public async Task<IReadOnlyList<string>?> OfPullRequestAsync(string forge, string repository, long? installation, int number, CancellationToken cancellationToken)
    {
        if (forge != ForgeNames.GitHub || number < 1)
        {
            return null;
        }

        var (owner, name) = Names.SplitRepository(repository);
        IReadOnlyList<PullRequestFile> files = [];
        var failure = await retry.RunAsync(async ct =>
        {
            var client = await ForRepositoryAsync(repository, installation, ct);
            files = await Classified(client.PullRequest.Files(owner, name, number, new ApiOptions { PageSize = 100 }),
                string.Create(CultureInfo.InvariantCulture, $"the files of pull request #{number} of {repository}")).WaitAsync(ct);
        }, time, cancellationToken);
        if (failure is not null)
        {
            Log.PullRequestFilesFailed(logger, repository, number, failure.Message);
            return null;
        }

        return files.Count < MaxPullRequestFiles ? FileNames(files.Select(f => (f.FileName, (string?)f.PreviousFileName))) : null;
    }

    private static List<string> FileNames(IEnumerable<(string Name, string? Previous)> files) =>
        [.. files.SelectMany(f => f.Previous is { Length: > 0 } previous ? new[] { f.Name, previous } : [f.Name]).Distinct(StringComparer.Ordinal)];

    private async Task<IGitHubClient> ForRepositoryAsync(string repository, long? installation, CancellationToken cancellationToken)
    {
        try
        {
            return await github.ForRepositoryAsync(repository, installation, cancellationToken);
        }
        catch (GitHubAppException e)
        {
            throw GitHubFailures.Classify(e, "")!;
        }
    }

    /// <summary>The call's failure in the pipeline's words, so the retry policy knows which are worth another attempt.</summary>
    private static async Task<T> Classified<T>(Task<T> call, string what)
    {
        try
        {
            return await call;
        }
        catch (Exception e) when (GitHubFailures.Classify(e, what) is { } failure)
        {
            throw failure;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(58, LogLevel.Warning, "Could not learn the files changed between {Before} and {After} in {Repository}; every pipeline runs: {Error}")]
        public static partial void CompareFailed(ILogger logger, string repository, string before, string after, string error);

        [LoggerMessage(59, LogLevel.Warning, "Could not learn the files pull request #{Number} of {Repository} changes; every pipeline runs: {Error}")]
        public static partial void PullRequestFilesFailed(ILogger logger, string repository, int number, string error);
    }
}
