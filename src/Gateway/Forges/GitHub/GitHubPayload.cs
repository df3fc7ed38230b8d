using System.Text.Unicode;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace CiTrigger.Gateway.Forges.GitHub;

/// <summary>
/// The JSON payload from either content type GitHub offers (<c>application/json</c>, or
/// <c>application/x-www-form-urlencoded</c> with the JSON in its <c>payload</c> field), as valid UTF-8 (RFC 8259):
/// System.Text.Json checks UTF-8 only when a string is read, so a bad byte would otherwise surface later as a 500.
/// </summary>
public static class GitHubPayload
{
    /// <summary>The payload's bytes, or the refusal (415 for another content type, 400 for a payload that is not UTF-8).</summary>
    public static (ReadOnlyMemory<byte> Json, WebhookRead.Refused? Refusal) Read(string? contentType, ArraySegment<byte> body)
    {
        var mediaType = MediaTypeHeaderValue.TryParse(contentType, out var parsed) ? parsed.MediaType.Value : null;
        if (string.Equals(mediaType, "application/json", StringComparison.OrdinalIgnoreCase))
        {
            return Utf8.IsValid(body) ? (body, null) : (default, BadRequest("the payload is not valid UTF-8"));
        }

        if (!string.Equals(mediaType, "application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
        {
            return (default, new WebhookRead.Refused(StatusCodes.Status415UnsupportedMediaType,
                $"Content-Type '{contentType}' is neither application/json nor application/x-www-form-urlencoded"));
        }

        return FormPayload.Read(body) switch
        {
            null => (default, BadRequest("the form body has no single 'payload' field")),
            var json when !Utf8.IsValid(json) => (default, BadRequest("the form field 'payload' is not valid UTF-8")),
            var json => (json, null),
        };
    }

    private static WebhookRead.Refused BadRequest(string reason) => new(StatusCodes.Status400BadRequest, reason);
}
