using System.Net.Http.Headers;
using System.Text;
using CiTrigger.Gateway.Forges.GitHub;

namespace CiTrigger.Tests.Fakes;

/// <summary>
/// Webhook deliveries as GitHub posts them: the body, the event and delivery headers, and the SHA-256
/// signature, made by the service's own <see cref="GitHubSignature"/> so that the tests, the benchmark
/// and the service agree on one definition of a valid signature.
/// </summary>
public static class GitHubWebhook
{
    public const string Path = "/webhooks/github";

    /// <summary>The <c>X-Hub-Signature-256</c> value GitHub sends for <paramref name="body"/> under <paramref name="secret"/>.</summary>
    public static string Sign(byte[] body, string secret) => GitHubSignature.Sign(body, Encoding.UTF8.GetBytes(secret));

    /// <summary>A delivery signed with <paramref name="secret"/>, or unsigned when it is null.</summary>
    public static HttpRequestMessage Request(string eventType, byte[] body, string contentType, string delivery, string? secret) =>
        WithSignature(eventType, body, contentType, delivery, secret is null ? null : Sign(body, secret));

    /// <summary>A delivery carrying a signature made beforehand (the benchmark signs each body once, however often it is sent).</summary>
    public static HttpRequestMessage WithSignature(string eventType, byte[] body, string contentType, string delivery, string? signature)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, Path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        request.Headers.Add(GitHubHeaders.Event, eventType);
        request.Headers.Add(GitHubHeaders.Delivery, delivery);
        request.Headers.UserAgent.ParseAdd("GitHub-Hookshot/fake");
        if (signature is not null)
        {
            request.Headers.Add(GitHubHeaders.Signature, signature);
        }

        return request;
    }
}
