using System.Net;
using CiTrigger.Grains.Pipeline;
using Octokit;

namespace CiTrigger.Grains.GitHub;

/// <summary>
/// GitHub's failures in the pipeline's words: rate limits, 5xx, 429 and unreachable servers are
/// <see cref="TransientException"/>s (with GitHub's Retry-After when it sent one); other answers are
/// <see cref="PermanentException"/>s. Everything that calls GitHub classifies through here.
/// </summary>
public static class GitHubFailures
{
    /// <summary>The classified failure, or null when <paramref name="error"/> did not come from talking to GitHub.</summary>
    public static Exception? Classify(Exception error, string what) => error switch
    {
        RateLimitExceededException e => new TransientException($"GitHub rate limit exceeded until {e.Reset:u}", e, e.GetRetryAfterTimeSpan()),
        SecondaryRateLimitExceededException e => new TransientException("GitHub secondary rate limit exceeded", e, RetryAfter(e)),
        ApiException e when (int)e.StatusCode >= 500 || e.StatusCode == HttpStatusCode.TooManyRequests =>
            new TransientException($"GitHub answered {(int)e.StatusCode}: {e.Message}", e, RetryAfter(e)),
        ApiException e => new PermanentException($"GitHub refused {what}: {(int)e.StatusCode} {e.Message}", e),
        GitHubAppException { Permanent: true } e => new PermanentException(e.Message, e),
        GitHubAppException e => new TransientException(e.Message, e),
        HttpRequestException e => new TransientException($"GitHub could not be reached: {e.Message}", e),
        _ => null,
    };

    private static TimeSpan? RetryAfter(ApiException e) =>
        e.HttpResponse?.Headers is { } headers && headers.TryGetValue(RetryAfterHeader.Name, out var value) ? RetryAfterHeader.Parse(value) : null;
}
