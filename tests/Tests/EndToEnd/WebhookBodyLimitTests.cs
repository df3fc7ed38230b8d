using System.Net;
using System.Text;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.EndToEnd;

/// <summary><c>Webhook:MaxPayloadBytes</c> is the limit of the body as sent, whichever way it is framed.</summary>
[Collection(SharedService.Name)]
public class WebhookBodyLimitTests(ServiceFixture fixture)
{
    /// <summary>The shared service's <c>Webhook:MaxPayloadBytes</c>.</summary>
    private const int Limit = 1_048_576;

    /// <summary>A signed push padded with trailing JSON whitespace to exactly <paramref name="size"/> bytes.</summary>
    private static byte[] PushOfSize(int size)
    {
        var json = Encoding.UTF8.GetBytes(Payloads.Push($"octo/{Guid.NewGuid():N}"[..30], "refs/heads/main", Payloads.Sha(1), Payloads.Sha(2)));
        var body = new byte[size];
        json.CopyTo(body, 0);
        body.AsSpan(json.Length).Fill((byte)' ');
        return body;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_body_of_exactly_the_limit_is_accepted_and_one_byte_more_is_answered_413(bool chunked)
    {
        async Task<HttpStatusCode> Send(byte[] body)
        {
            using var request = TriggerHost.Webhook("push", body, "application/json", Guid.NewGuid().ToString());
            if (chunked)
            {
                // Small chunks: their framing (size line and CRLFs) is many kilobytes over a megabyte, none of it body.
                var content = new ChunkedContent(body, 1024);
                content.Headers.ContentType = request.Content!.Headers.ContentType;
                request.Content = content;
            }

            using var response = await fixture.Service.Client.SendAsync(request, TestContext.Current.CancellationToken);
            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.Accepted, await Send(PushOfSize(Limit)));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, await Send(PushOfSize(Limit + 1)));
    }

    /// <summary>Content of unknown length, so HttpClient sends it with <c>Transfer-Encoding: chunked</c>, one chunk per write.</summary>
    private sealed class ChunkedContent(byte[] body, int chunkSize) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            for (var offset = 0; offset < body.Length; offset += chunkSize)
            {
                await stream.WriteAsync(body.AsMemory(offset, Math.Min(chunkSize, body.Length - offset)));
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
