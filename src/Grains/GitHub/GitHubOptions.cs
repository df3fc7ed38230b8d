namespace CiTrigger.Grains.GitHub;

/// <summary>How to reach GitHub: token, GitHub Enterprise base URL, timeouts, commit statuses.</summary>
public sealed class GitHubOptions
{
    public const string Section = "GitHub";

    /// <summary>API token; <c>GITHUB_TOKEN</c> from the environment when unset.</summary>
    public string? Token { get; set; }

    /// <summary>GitHub Enterprise base URL; <c>api/v3/</c> is added as Octokit does.</summary>
    public string? BaseUrl { get; set; }

    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public Uri ApiBase => ApiBaseFor(BaseUrl);

    /// <summary>The API root Octokit would use for <paramref name="baseUrl"/>.</summary>
    public static Uri ApiBaseFor(string? baseUrl)
    {
        if (string.IsNullOrWhiteSpace(baseUrl))
        {
            return new Uri("https://api.github.com/");
        }

        var uri = new Uri(baseUrl.EndsWith('/') ? baseUrl : baseUrl + "/");
        if (uri.Host is "github.com" or "api.github.com")
        {
            return new Uri("https://api.github.com/");
        }

        return uri.AbsolutePath.EndsWith("/api/v3/", StringComparison.Ordinal) ? uri : new Uri(uri, "api/v3/");
    }

    public IEnumerable<string> Validate()
    {
        if (!string.IsNullOrWhiteSpace(BaseUrl)
            && (!Uri.TryCreate(BaseUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
        {
            yield return $"{Section}:BaseUrl: '{BaseUrl}' is not an absolute http(s) URL";
        }

        if (RequestTimeout <= TimeSpan.Zero)
        {
            yield return $"{Section}:RequestTimeout: must be positive";
        }
    }
}
