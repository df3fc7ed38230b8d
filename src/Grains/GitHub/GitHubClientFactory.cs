using Octokit;
using Octokit.Internal;

namespace CiTrigger.Grains.GitHub;

public static class GitHubClientFactory
{
    public const string UserAgent = "k8s-webhook-handler";

    /// <summary>An Octokit client whose responses are capped at <paramref name="maxResponseBytes"/>.</summary>
    public static IGitHubClient Create(GitHubOptions options, string? token, long maxResponseBytes)
    {
        var credentials = string.IsNullOrEmpty(token) ? Credentials.Anonymous : new Credentials(token);
        var http = new HttpClientAdapter(() => new ResponseSizeLimit(maxResponseBytes)
        {
            InnerHandler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) },
        });
        var connection = new Connection(new ProductHeaderValue(UserAgent), options.ApiBase,
            new InMemoryCredentialStore(credentials), http, new SimpleJsonSerializer());
        var client = new GitHubClient(connection);
        client.SetRequestTimeout(options.RequestTimeout);
        return client;
    }
}
