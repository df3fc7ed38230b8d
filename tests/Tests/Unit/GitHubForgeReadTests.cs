using System.Buffers;
using System.Text;
using System.Web;
using CiTrigger.Gateway.Events;
using CiTrigger.Gateway.Forges;
using CiTrigger.Gateway.Forges.GitHub;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xunit;

namespace CiTrigger.Tests.Unit;

/// <summary>
/// The forge reads a verified payload from a pooled copy that goes back to the pool once the event is read: a
/// payload read after a longer one must be read from its own bytes only, in both content types.
/// </summary>
public class GitHubForgeReadTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    private readonly GitHubForge forge = new(Options.Create(new PullRequestOptions()), new ConfigurationBuilder().Build(),
        new ServiceCollection().AddSingleton<IRepositorySettings>(NoRepositorySettings.Instance).BuildServiceProvider());

    private readonly EventFilter filter = new(new FilterOptions());

    [Theory]
    [InlineData("application/json")]
    [InlineData("application/x-www-form-urlencoded")]
    public void A_payload_read_after_a_longer_one_is_read_from_its_own_bytes(string contentType)
    {
        // A long branch name makes the first payload longer than the second by far; both fit one pool bucket.
        var longer = Payloads.Push("octo/app", "refs/heads/" + new string('x', 200), Payloads.Sha(1), Payloads.Sha(2));
        var shorter = Payloads.Push("octo/app", "refs/heads/main", Payloads.Sha(3), Payloads.Sha(4));
        Assert.True(Encoding.UTF8.GetByteCount(longer) > Encoding.UTF8.GetByteCount(shorter) + 150);

        for (var round = 0; round < 3; round++)
        {
            Assert.Equal(Payloads.Sha(2), Accepted(contentType, longer).Revision);
            var e = Accepted(contentType, shorter);
            Assert.Equal(("refs/heads/main", Payloads.Sha(4), Payloads.Sha(3)), (e.Ref, e.Revision, e.Before));
        }
    }

    [Fact]
    public void A_payload_that_is_not_utf8_is_refused_and_the_next_one_is_read()
    {
        var push = Encoding.UTF8.GetBytes(Payloads.Push("octo/app", "refs/heads/main", Payloads.Sha(1), Payloads.Sha(2)));
        var broken = push.ToArray();
        broken[push.AsSpan().IndexOf("main"u8)] = 0xFF;

        var refused = Assert.IsType<WebhookRead.Refused>(Read("application/json", broken));
        Assert.Equal((StatusCodes.Status400BadRequest, "the payload is not valid UTF-8"), (refused.StatusCode, refused.Reason));
        Assert.Equal(Payloads.Sha(2), Accepted("application/json", Encoding.UTF8.GetString(push)).Revision);
    }

    private HookEvent Accepted(string contentType, string json)
    {
        var body = contentType == "application/json" ? json : "payload=" + HttpUtility.UrlEncode(json);
        var delivered = Assert.IsType<WebhookRead.Delivered>(Read(contentType, Encoding.UTF8.GetBytes(body)));
        return Assert.IsType<EventReadResult.Accepted>(delivered.Result).Event;
    }

    private WebhookRead Read(string contentType, byte[] body)
    {
        var http = new DefaultHttpContext();
        http.Request.ContentType = contentType;
        http.Request.Headers[GitHubHeaders.Event] = "push";
        http.Request.Headers[GitHubHeaders.Delivery] = Guid.NewGuid().ToString();
        return forge.Read(http.Request, new ReadOnlySequence<byte>(body), filter, Now);
    }
}
