using Octokit;
using Octokit.Internal;

namespace CiTrigger.Grains.GitHub;

public static class GitHubClientFactory
{
    public const string UserAgent = "k8s-webhook-handler";

    /// <summary>An Octokit client whose responses are capped at <paramref name="maxResponseBytes"/>.</summary>
    public static IGitHubClient Create(GitHubOptions options, string? token, long maxResponseBytes) =>
        Create(options, string.IsNullOrEmpty(token) ? Credentials.Anonymous : new Credentials(token), null, maxResponseBytes);

    /// <summary>A client whose requests <paramref name="authentication"/> authenticates (App mode).</summary>
    public static IGitHubClient Create(GitHubOptions options, DelegatingHandler authentication, long maxResponseBytes) =>
        Create(options, Credentials.Anonymous, authentication, maxResponseBytes);

    private static GitHubClient Create(GitHubOptions options, Credentials credentials, DelegatingHandler? authentication, long maxResponseBytes)
    {
        var http = new DeadlineOnlyHttpClientAdapter(() =>
        {
            HttpMessageHandler handler = new ResponseSizeLimit(maxResponseBytes)
            {
                InnerHandler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) },
            };
            if (authentication is not null)
            {
                authentication.InnerHandler = handler;
                handler = authentication;
            }

            return handler;
        });
        var connection = new Connection(new ProductHeaderValue(UserAgent), options.ApiBase,
            new InMemoryCredentialStore(credentials), http, new SimpleJsonSerializer());
        var client = new GitHubClient(connection);
        client.SetRequestTimeout(options.RequestTimeout);
        return client;
    }
}

/// <summary>
/// Octokit's adapter, wrapped so that a request carries no timeout of Octokit's own. For each request with a
/// <see cref="Octokit.Internal.Request.Timeout"/> (100 s unless set per request) Octokit arms a cancellation source with a timer and links
/// a second one to it, and disposes neither, so every GitHub call left about 0.5 KB in the heap for 100 s (found in a heap
/// dump of the scale benchmark: one such pair per event, 27,800 of them after 30,000 events, rooted only by their timers).
/// The HttpClient's own timeout, <c>GitHub:RequestTimeout</c> (set through <see cref="GitHubClient.SetRequestTimeout"/>),
/// still bounds every request, and HttpClient disposes what it arms.
/// </summary>
public sealed class DeadlineOnlyHttpClientAdapter(Func<HttpMessageHandler> getHandler) : IHttpClient
{
    private readonly HttpClientAdapter inner = new(getHandler);

    public Task<IResponse> Send(Octokit.Internal.IRequest request, CancellationToken cancellationToken, Func<object, object>? preprocessResponseBody = null)
    {
        if (request is Octokit.Internal.Request own)
        {
            own.Timeout = TimeSpan.Zero;
        }

        return inner.Send(request, cancellationToken, preprocessResponseBody);
    }

    public void SetRequestTimeout(TimeSpan timeout) => inner.SetRequestTimeout(timeout);

    public void Dispose() => inner.Dispose();
}
