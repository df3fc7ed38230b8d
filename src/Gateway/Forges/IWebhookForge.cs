using System.Buffers;
using CiTrigger.Gateway.Events;
using Microsoft.AspNetCore.Http;

namespace CiTrigger.Gateway.Forges;

/// <summary>
/// A forge the gateway takes webhooks from: where they arrive, how their signature is checked, and how a
/// verified one becomes an event. Everything else (the body's limits, the filters, the ref's queue, the
/// answers) is the same for every forge and lives in <c>Webhooks/</c>.
/// </summary>
public interface IWebhookForge
{
    /// <summary>The forge's name in events and ref keys (<see cref="Grains.Abstractions.ForgeNames"/>).</summary>
    string Name { get; }

    /// <summary>The path its webhooks are posted to.</summary>
    string Route { get; }

    /// <summary>The event name the request says it carries, as sent ("" when none): counted before anything is verified.</summary>
    string EventName(HttpRequest request);

    /// <summary>Whether one of <paramref name="secrets"/> signed <paramref name="body"/>; if none did, why, for the 401.</summary>
    SignatureVerification Verify(HttpRequest request, ReadOnlySequence<byte> body, IReadOnlyList<byte[]> secrets);

    /// <summary>
    /// A verified webhook as an event, or why it is ignored or refused. <paramref name="filter"/> says which event
    /// types are handled, so an unhandled one is answered before its payload is parsed.
    /// </summary>
    WebhookRead Read(HttpRequest request, ReadOnlySequence<byte> body, EventFilter filter, DateTimeOffset receivedAt);
}

/// <summary>What a forge made of a verified webhook.</summary>
public abstract record WebhookRead
{
    private WebhookRead()
    {
    }

    /// <summary>Not a webhook the forge can read (a header missing, a content type it does not send): answered <paramref name="StatusCode"/>.</summary>
    public sealed record Refused(int StatusCode, string Reason) : WebhookRead;

    /// <summary>A delivery: its id, its event's name, and what its payload amounts to.</summary>
    public sealed record Delivered(string Delivery, string EventType, EventReadResult Result) : WebhookRead;
}
