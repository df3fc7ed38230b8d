using CiTrigger.Grains.Abstractions;

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

    /// <summary>Report each event as a commit status (pending, then success or failure) on its revision.</summary>
    public bool ReportStatus { get; set; }

    /// <summary>The status context, the name GitHub shows beside the commit.</summary>
    public string StatusContext { get; set; } = PipelineChecks.DefaultContext;

    /// <summary>
    /// Target URL of the statuses; placeholders <c>{delivery}</c>, <c>{key}</c>, <c>{repository}</c>,
    /// <c>{ref}</c>, <c>{revision}</c>, and once applied <c>{namespace}</c> and <c>{name}</c> of the first
    /// object (e.g. <c>https://argo.example.com/workflows/{namespace}/{name}</c>). Without it statuses
    /// carry no link.
    /// </summary>
    public string? StatusTargetUrl { get; set; }

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

        if (ReportStatus && string.IsNullOrWhiteSpace(StatusContext))
        {
            yield return $"{Section}:StatusContext: must not be empty when {Section}:ReportStatus=true";
        }

        if (StatusTargetUrl is { Length: > 0 } template
            && !Uri.TryCreate(template.Replace("{", "", StringComparison.Ordinal).Replace("}", "", StringComparison.Ordinal), UriKind.Absolute, out _))
        {
            yield return $"{Section}:StatusTargetUrl: '{template}' is not an absolute URL template";
        }

        if (RequestTimeout <= TimeSpan.Zero)
        {
            yield return $"{Section}:RequestTimeout: must be positive";
        }
    }
}
