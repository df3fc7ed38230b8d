using System.Net;
using System.Text.Json;
using k8s;
using k8s.Autorest;

namespace CiTrigger.Grains.Kubernetes;

/// <summary>
/// A watch sent through the client's own HTTP pipeline and credentials (kubeconfig token or certificate,
/// in-cluster token file, or none), read line by line here: the generated watch call waits for the first
/// event before it returns and cannot tell a quiet watch the server ended from a broken one.
/// </summary>
internal static class WatchRequest
{
    /// <summary>The open response, or a 410; any other refusal throws as the generated calls do.</summary>
    public static async Task<HttpResponseMessage> SendAsync(IKubernetes client, string relativeUri, CancellationToken ct)
    {
        var kubernetes = client as k8s.Kubernetes
            ?? throw new InvalidOperationException($"watching needs a {typeof(k8s.Kubernetes).FullName}, not a {client.GetType().FullName}");
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(kubernetes.BaseUri, relativeUri));
        if (kubernetes.Credentials is { } credentials)
        {
            await credentials.ProcessHttpRequestAsync(request, ct);
        }

        var response = await kubernetes.HttpClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        if (response.IsSuccessStatusCode || response.StatusCode == HttpStatusCode.Gone)
        {
            return response;
        }

        using (response)
        {
            var content = await response.Content.ReadAsStringAsync(ct);
            throw new HttpOperationException($"the watch was answered {(int)response.StatusCode}: {content}")
            {
                Response = new HttpResponseMessageWrapper(response, content),
            };
        }
    }

    /// <summary>
    /// What an ERROR event's <c>Status</c> ends the watch of <paramref name="watched"/> with: nothing when the
    /// resourceVersion expired (410: a new list follows), a <see cref="WatchBrokenException"/> for any other error.
    /// </summary>
    public static void ThrowUnlessExpired(JsonElement status, string watched)
    {
        var code = status.ValueKind == JsonValueKind.Object && status.TryGetProperty("code", out var c) && c.TryGetInt32(out var value) ? value : (int?)null;
        if (code != (int)HttpStatusCode.Gone)
        {
            throw new WatchBrokenException($"the watch of {watched} ended with an error: {status.GetRawText()}");
        }
    }

    public static string? ResourceVersion(JsonElement obj) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object
            && metadata.TryGetProperty("resourceVersion", out var version) && version.ValueKind == JsonValueKind.String
            ? version.GetString() : null;
}

/// <summary>A watch the server ended with an error other than an expired resourceVersion.</summary>
public sealed class WatchBrokenException(string message) : Exception(message);
