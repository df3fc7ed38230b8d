using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Text.Unicode;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Gateway.Events;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace CiTrigger.Gateway.Webhooks;

/// <summary>
/// <c>POST /webhooks/github</c>: bound the body, verify the signature over the raw bytes, read the event,
/// filter it, and answer 202 only once its ref grain has stored it. Checks run cheapest and least
/// revealing first: nothing about the payload is looked at before the signature is verified.
/// </summary>
public sealed partial class WebhookReceiver(
    IGrainFactory grains,
    IOptions<WebhookOptions> options,
    UnverifiedBodyBudget budget,
    EventFilter filter,
    WebhookReruns reruns,
    WebhookMetrics metrics,
    TimeProvider time,
    ILogger<WebhookReceiver> logger)
{
    public const string EventHeader = "X-GitHub-Event";
    public const string DeliveryHeader = "X-GitHub-Delivery";

    public async Task<JsonHttpResult<WebhookAnswer>> ReceiveAsync(HttpContext http)
    {
        var eventType = http.Request.Headers[EventHeader].ToString();
        var reply = await AnswerAsync(http, eventType);
        metrics.Received(eventType, reply.StatusCode);
        return reply.ToResult();
    }

    /// <summary>The checks in their order; each step answers, or returns null to let the next one look.</summary>
    private async Task<WebhookReply> AnswerAsync(HttpContext http, string eventType)
    {
        var settings = options.Value;
        var request = http.Request;
        var (body, outcome) = await WebhookBody.ReadAsync(http, settings.MaxPayloadBytes, budget);
        using var owned = body;
        if ((Unread(outcome, settings) ?? Unsigned(body, request, settings)) is { } refused)
        {
            return refused;
        }

        body.Verified();
        var delivery = request.Headers[DeliveryHeader].ToString();
        if (Unnamed(eventType, delivery) is { } unnamed)
        {
            return unnamed;
        }

        using var scope = logger.BeginScope(new Dictionary<string, object> { ["Delivery"] = delivery, ["EventType"] = eventType });

        // Verified now: a copy bounded by Webhook:MaxPayloadBytes is what a signed sender can cost.
        var payload = Payload(request.ContentType, body.Bytes.ToArray());
        if (payload.Refusal is { } unreadable)
        {
            return unreadable;
        }

        var read = Read(eventType, delivery, payload.Json);
        return await AnswerEventAsync(read, eventType, delivery, settings.AcceptTimeout, http.RequestAborted);
    }

    /// <summary>A body that could not be read whole, or null when it was.</summary>
    private WebhookReply? Unread(BodyRead outcome, WebhookOptions settings)
    {
        switch (outcome)
        {
            case BodyRead.TooLarge:
                return WebhookReply.Refused(StatusCodes.Status413PayloadTooLarge, $"the body is larger than {settings.MaxPayloadBytes} bytes");
            case BodyRead.OverBudget:
                Log.OverBudget(logger, budget.Capacity);
                return WebhookReply.Refused(StatusCodes.Status503ServiceUnavailable,
                    "too many unverified webhook bodies are being received (Webhook:MaxUnverifiedBytes); nothing was acknowledged, retry later");
            case BodyRead.Broken:
                return WebhookReply.Refused(StatusCodes.Status400BadRequest, "the body could not be read");
            default:
                return null;
        }
    }

    /// <summary>A body whose signature does not verify with any configured secret, or null (also when no secret is configured).</summary>
    private static WebhookReply? Unsigned(WebhookBody body, HttpRequest request, WebhookOptions settings)
    {
        var secrets = settings.SecretKeys;
        if (secrets.Count == 0)
        {
            return null;
        }

        return WebhookSignature.Verify(body.Bytes, request.Headers[WebhookSignature.Header], secrets) switch
        {
            SignatureCheck.Missing => Unauthorized($"missing {WebhookSignature.Header} (the SHA-1 X-Hub-Signature alone is not accepted)"),
            SignatureCheck.Malformed => Unauthorized($"{WebhookSignature.Header} is not of the form sha256=<64 hex digits>"),
            SignatureCheck.Mismatch => Unauthorized($"{WebhookSignature.Header} does not match the body for any configured secret"),
            _ => null,
        };

        static WebhookReply Unauthorized(string reason) => WebhookReply.Refused(StatusCodes.Status401Unauthorized, reason);
    }

    /// <summary>A missing or malformed event name or delivery id, or null when both are usable.</summary>
    private static WebhookReply? Unnamed(string eventType, string delivery)
    {
        var problem = eventType.Length == 0 ? $"missing {EventHeader} header"
            : eventType.Length > 64 || !EventName().IsMatch(eventType) ? $"{EventHeader} is not an event name"
            : delivery.Length == 0 ? $"missing {DeliveryHeader} header"
            : !Names.IsDeliveryId(delivery) ? $"{DeliveryHeader} must be up to 63 characters of letters, digits, '-', '_' and '.'"
            : null;
        return problem is null ? null : WebhookReply.Refused(StatusCodes.Status400BadRequest, problem);
    }

    /// <summary>What the payload amounts to: pings, event types not handled and JSON that does not parse are decided before the reader.</summary>
    private EventReadResult Read(string eventType, string delivery, byte[] json)
    {
        if (eventType == "ping")
        {
            return new EventReadResult.Ignored("ping: the webhook is set up");
        }

        if (!filter.HandlesEventType(eventType))
        {
            return new EventReadResult.Ignored($"event type '{eventType}' is not in Handler:Events");
        }

        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 64 });
            return GitHubEventReader.Read(eventType, delivery, document.RootElement, time.GetUtcNow(), filter.PullRequests, filter.OwnApp);
        }
        catch (JsonException e)
        {
            return new EventReadResult.Rejected($"the payload is not valid JSON: {e.Message}");
        }
    }

    /// <summary>Runs a re-run request, or else answers the event as read: refused, ignored, filtered out, or queued.</summary>
    private async Task<WebhookReply> AnswerEventAsync(EventReadResult read, string eventType, string delivery, TimeSpan timeout, CancellationToken aborted)
    {
        if (read is EventReadResult.RerunRequested rerun)
        {
            if (await reruns.TryAsync(eventType, rerun, delivery, time.GetUtcNow(), timeout, aborted) is { } answer)
            {
                return answer;
            }

            read = rerun.Otherwise;
        }

        switch (read)
        {
            case EventReadResult.Rejected rejected:
                return WebhookReply.Refused(StatusCodes.Status400BadRequest, rejected.Reason);
            case EventReadResult.Ignored ignored:
                return Ignore(delivery, ignored.Reason);
        }

        var hookEvent = ((EventReadResult.Accepted)read).Event;
        if ((filter.ActionIgnoreReason(hookEvent) ?? filter.IgnoreReason(hookEvent.Repository, hookEvent.Ref)) is { } reason)
        {
            return Ignore(delivery, reason);
        }

        return await EnqueueAsync(hookEvent, timeout, aborted);
    }

    private async Task<WebhookReply> EnqueueAsync(HookEvent hookEvent, TimeSpan timeout, CancellationToken aborted)
    {
        using var scope = logger.BeginScope(EventScope.Of(hookEvent));
        var key = hookEvent.Key;
        try
        {
            var result = await grains.GetGrain<IRefGrain>(key).Enqueue(hookEvent).WaitAsync(timeout, aborted);
            if (result.Status == EnqueueStatus.Full)
            {
                Log.Unavailable(logger, null, hookEvent.Delivery, key);
                return new WebhookReply(StatusCodes.Status503ServiceUnavailable, new WebhookAnswer("unavailable", hookEvent.Delivery, key,
                    $"the queue of {key} is full ({result.QueueLength} pending events, Handler:MaxQueueLength); nothing was acknowledged"));
            }

            if (result.Status == EnqueueStatus.Duplicate)
            {
                Log.Duplicate(logger, hookEvent.Delivery, key);
                return new WebhookReply(StatusCodes.Status200OK, new WebhookAnswer("duplicate", hookEvent.Delivery, key, null));
            }

            Log.Accepted(logger, hookEvent.Delivery, hookEvent.Repository, hookEvent.Ref, hookEvent.Revision, result.QueueLength);
            return new WebhookReply(StatusCodes.Status202Accepted, new WebhookAnswer("queued", hookEvent.Delivery, key, null));
        }
        catch (TimeoutException)
        {
            Log.Unavailable(logger, null, hookEvent.Delivery, key);
            return new WebhookReply(StatusCodes.Status503ServiceUnavailable,
                new WebhookAnswer("unavailable", hookEvent.Delivery, key, $"the event could not be stored within {timeout.TotalSeconds:0.#} s; nothing was acknowledged"));
        }
        catch (Exception e) when (!aborted.IsCancellationRequested)
        {
            Log.Unavailable(logger, e, hookEvent.Delivery, key);
            return new WebhookReply(StatusCodes.Status503ServiceUnavailable,
                new WebhookAnswer("unavailable", hookEvent.Delivery, key, "the event could not be stored; nothing was acknowledged"));
        }
    }

    /// <summary>
    /// The JSON payload from either content type GitHub offers, as valid UTF-8 (RFC 8259): System.Text.Json
    /// checks UTF-8 only when a string is read, so a bad byte would otherwise surface later as a 500.
    /// </summary>
    private static WebhookPayload Payload(string? contentType, byte[] body)
    {
        var mediaType = MediaTypeHeaderValue.TryParse(contentType, out var parsed) ? parsed.MediaType.Value : null;
        if (string.Equals(mediaType, "application/json", StringComparison.OrdinalIgnoreCase))
        {
            return Utf8.IsValid(body) ? new WebhookPayload(body, null) : WebhookPayload.Refused(StatusCodes.Status400BadRequest, "the payload is not valid UTF-8");
        }

        if (!string.Equals(mediaType, "application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
        {
            return WebhookPayload.Refused(StatusCodes.Status415UnsupportedMediaType,
                $"Content-Type '{contentType}' is neither application/json nor application/x-www-form-urlencoded");
        }

        return FormPayload.Read(body) switch
        {
            null => WebhookPayload.Refused(StatusCodes.Status400BadRequest, "the form body has no single 'payload' field"),
            var json when !Utf8.IsValid(json) => WebhookPayload.Refused(StatusCodes.Status400BadRequest, "the form field 'payload' is not valid UTF-8"),
            var json => new WebhookPayload(json, null),
        };
    }

    private WebhookReply Ignore(string delivery, string reason)
    {
        Log.Ignored(logger, delivery, reason);
        return new WebhookReply(StatusCodes.Status200OK, new WebhookAnswer("ignored", delivery, null, reason));
    }

    [GeneratedRegex(@"^[a-z0-9_]+\z")]
    private static partial Regex EventName();

    private static partial class Log
    {
        [LoggerMessage(100, LogLevel.Information, "Accepted {Delivery} for {Repository} {Ref} at {Revision}; {QueueLength} pending on the ref")]
        public static partial void Accepted(ILogger logger, string delivery, string repository, string @ref, string revision, int queueLength);

        [LoggerMessage(101, LogLevel.Information, "Delivery {Delivery} for {Key} is a duplicate")]
        public static partial void Duplicate(ILogger logger, string delivery, string key);

        [LoggerMessage(102, LogLevel.Debug, "Ignored {Delivery}: {Reason}")]
        public static partial void Ignored(ILogger logger, string delivery, string reason);

        [LoggerMessage(104, LogLevel.Warning, "A webhook was answered 503: unverified bodies in flight would exceed {Capacity} bytes (Webhook:MaxUnverifiedBytes)")]
        public static partial void OverBudget(ILogger logger, long capacity);

        [LoggerMessage(103, LogLevel.Warning, "Could not store {Delivery} for {Key}; answered 503")]
        public static partial void Unavailable(ILogger logger, Exception? error, string delivery, string key);
    }
}

/// <summary>What the webhook endpoint answers: the HTTP status and the JSON body.</summary>
public sealed record WebhookReply(int StatusCode, WebhookAnswer Body)
{
    /// <summary>A request refused before it was read as an event: <c>rejected</c>, or <c>unavailable</c> with a 503.</summary>
    public static WebhookReply Refused(int statusCode, string reason) =>
        new(statusCode, new WebhookAnswer(statusCode == StatusCodes.Status503ServiceUnavailable ? "unavailable" : "rejected", null, null, reason));

    public JsonHttpResult<WebhookAnswer> ToResult() => TypedResults.Json(Body, WebhookAnswer.Json, statusCode: StatusCode);
}

/// <summary>The JSON of a webhook's payload, or why it cannot be read as JSON.</summary>
internal sealed record WebhookPayload(byte[] Json, WebhookReply? Refusal)
{
    public static WebhookPayload Refused(int statusCode, string reason) => new([], WebhookReply.Refused(statusCode, reason));
}

/// <summary>The webhook endpoint's JSON answer.</summary>
public sealed record WebhookAnswer(string Status, string? Delivery, string? Key, string? Reason)
{
    /// <summary>
    /// The answer is <c>application/json</c>, never HTML, so characters stay as written (<c>'after'</c>, not
    /// <c>\u0027after\u0027</c>): the default encoder's HTML escaping only garbles what GitHub shows.
    /// </summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}
