using CiTrigger.Grains.Abstractions;
using Microsoft.Extensions.Options;

namespace CiTrigger.Gateway.Forges.GitHub;

/// <summary>
/// The keys of the <c>GitHub</c> section the status page links with. The adapters' own options class
/// validates them at start-up; this one only reads them, since the gateway cannot see that class.
/// </summary>
public sealed class GitHubLinkOptions
{
    public const string Section = "GitHub";

    public string? BaseUrl { get; set; }

    public string? StatusTargetUrl { get; set; }

    public bool ReportStatus { get; set; }

    public string StatusContext { get; set; } = PipelineChecks.DefaultContext;
}

/// <summary>Links from the status page to GitHub (or GitHub Enterprise) and to what an event applied.</summary>
public sealed class GitHubLinks(IOptions<GitHubLinkOptions> options)
{
    private readonly Uri web = WebBase(options.Value.BaseUrl);

    public GitHubLinkOptions Settings => options.Value;

    /// <summary>The web address of a commit, or null when the revision is not a commit name.</summary>
    public Uri? Commit(string repository, string revision) =>
        Names.IsRepository(repository) && GitSha.IsValid(revision) && !GitSha.IsZero(revision)
            ? new Uri(web, string.Join('/', repository.Split('/').Select(Uri.EscapeDataString)) + "/commit/" + revision)
            : null;

    /// <summary><c>GitHub:StatusTargetUrl</c> for an event and its first applied object, when it makes an http(s) link.</summary>
    public Uri? Target(string delivery, string key, string repository, string gitRef, string revision, AppliedObject? first) =>
        StatusTargetUrl.Expand(Settings.StatusTargetUrl, delivery, key, repository, gitRef, revision, first) is { } url
        && Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri
            : null;

    /// <summary>
    /// The web root for an API base URL: github.com for the public API (or none), otherwise the GitHub
    /// Enterprise host with Octokit's <c>api/v3/</c> taken off.
    /// </summary>
    public static Uri WebBase(string? baseUrl)
    {
        if (string.IsNullOrWhiteSpace(baseUrl) || !Uri.TryCreate(baseUrl, UriKind.Absolute, out var uri) || uri.Host is "github.com" or "api.github.com")
        {
            return new Uri("https://github.com/");
        }

        var path = uri.AbsolutePath.EndsWith('/') ? uri.AbsolutePath : uri.AbsolutePath + "/";
        if (path.EndsWith("/api/v3/", StringComparison.Ordinal))
        {
            path = path[..^"api/v3/".Length];
        }

        return new Uri(uri, path);
    }
}
