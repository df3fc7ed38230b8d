using System.Net;
using System.Net.Http.Headers;

namespace CiTrigger.Grains.GitHub;

/// <summary>Signs every request as the App itself, with its JWT (the <c>/app</c> endpoints).</summary>
public sealed class AppAuthentication(GitHubAppJwt jwt) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", jwt.Current());
        return base.SendAsync(request, cancellationToken);
    }
}

/// <summary>
/// Sends every request with the installation's token; when GitHub answers 401 (the token expired or was
/// revoked before the cache knew), asks for a new token once and sends the request again.
/// </summary>
public sealed class InstallationAuthentication(long installation, InstallationTokens tokens) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        // Read before the first send: a request's content cannot be sent twice.
        var body = request.Content is null ? null : await request.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        var token = await tokens.GetAsync(installation, cancellationToken).ConfigureAwait(false);
        request.Headers.Authorization = new AuthenticationHeaderValue("token", token.Token);
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Unauthorized)
        {
            return response;
        }

        response.Dispose();
        tokens.Invalidate(installation, token.Token);
        var fresh = await tokens.GetAsync(installation, cancellationToken).ConfigureAwait(false);
        using var again = Copy(request, body);
        again.Headers.Authorization = new AuthenticationHeaderValue("token", fresh.Token);
        return await base.SendAsync(again, cancellationToken).ConfigureAwait(false);
    }

    private static HttpRequestMessage Copy(HttpRequestMessage request, byte[]? body)
    {
        var copy = new HttpRequestMessage(request.Method, request.RequestUri) { Version = request.Version };
        foreach (var header in request.Headers)
        {
            copy.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        if (body is not null)
        {
            copy.Content = new ByteArrayContent(body);
            foreach (var header in request.Content!.Headers)
            {
                copy.Content.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }

        return copy;
    }
}
