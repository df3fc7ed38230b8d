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
        var http = new HttpClientAdapter(() =>
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
