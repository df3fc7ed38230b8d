using System.Net;
using CiTrigger.Grains.Pipeline;
using k8s.Autorest;

namespace CiTrigger.Grains.Kubernetes;

/// <summary>
/// The Kubernetes API server's failures in the pipeline's words, twin of <see cref="GitHub.GitHubFailures"/>: the
/// server's own failures (5xx), throttling (429), a conflict with a concurrent writer (409), a timeout (408) and a
/// server that cannot be reached, or not in time, are <see cref="TransientException"/>s (with the server's
/// Retry-After when it sent one); other answers are <see cref="PermanentException"/>s, since they fail the same
/// way again. Everything that talks to the API server decides through here; what a 403 or a 404 means for the
/// caller (the Role rule to add, an object already gone, a resource no longer served) is the caller's to say.
/// </summary>
public static class KubernetesFailures
{
    /// <summary>
    /// The classified failure, or null when <paramref name="error"/> did not come from talking to the API server
    /// (a cancellation of <paramref name="cancellationToken"/> included: that is the caller giving up, not the server).
    /// </summary>
    public static Exception? Classify(Exception error, string what, CancellationToken cancellationToken) => error switch
    {
        HttpOperationException e when IsTransient(e.Response.StatusCode) => new TransientException(Answered(what, e), e, RetryAfter(e)),
        HttpOperationException e => new PermanentException(Answered(what, e), e),
        HttpRequestException e => new TransientException($"{what}: the API server could not be reached: {e.Message}", e),
        OperationCanceledException e when !cancellationToken.IsCancellationRequested =>
            new TransientException($"{what}: the API server could not be reached in time: {e.Message}", e),
        _ => null,
    };

    /// <summary>The API server answered 404: the object, its namespace or its resource does not exist.</summary>
    public static bool IsNotFound(Exception error) => error is HttpOperationException { Response.StatusCode: HttpStatusCode.NotFound };

    /// <summary>The API server refused the service account (403).</summary>
    public static bool IsForbidden(Exception error) => error is HttpOperationException { Response.StatusCode: HttpStatusCode.Forbidden };

    /// <summary>A 404 for the resource itself rather than for an object (see <see cref="ApiRefusal.IsResourceNotServed"/>).</summary>
    public static bool IsResourceNotServed(Exception error) =>
        error is HttpOperationException { Response.StatusCode: HttpStatusCode.NotFound } e && ApiRefusal.IsResourceNotServed(e.Response.Content);

    /// <summary>What the server answered, for a failure's message: the status code and the message of its Status.</summary>
    public static string Answered(string what, HttpOperationException e) =>
        $"{what}: the API server answered {(int)e.Response.StatusCode} {ApiRefusal.StatusMessage(e.Response.Content)}";

    private static bool IsTransient(HttpStatusCode status) =>
        (int)status >= 500 || status is HttpStatusCode.TooManyRequests or HttpStatusCode.Conflict or HttpStatusCode.RequestTimeout;

    private static TimeSpan? RetryAfter(HttpOperationException e) =>
        e.Response.Headers.TryGetValue(RetryAfterHeader.Name, out var values) ? RetryAfterHeader.Parse(values.FirstOrDefault()) : null;
}
