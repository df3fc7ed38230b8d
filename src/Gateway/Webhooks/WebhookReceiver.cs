using System.Text.Json;
using CiTrigger.Gateway.Events;
using CiTrigger.Gateway.Forges;
using CiTrigger.Grains.Abstractions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CiTrigger.Gateway.Webhooks;

/// <summary>
/// Every forge's webhook endpoint (<see cref="WebhookForges"/>): bound the body, have the forge verify the
/// signature over the raw bytes and read the event, filter it, and answer 202 only once its ref grain has stored
/// it. Checks run cheapest and least revealing first: nothing about the payload is looked at before the
/// signature is verified.
/// </summary>
public sealed partial class WebhookReceiver(
    IGrainFactory grains,
    IOptions<WebhookOptions> options,
    UnverifiedBodyBudget budget,
    EventFilter filter,
    IOptions<FilterOptions> filters,
    IRepositorySettings repositories,
    WebhookReruns reruns,
    WebhookMetrics metrics,
    TimeProvider time,
    ILogger<WebhookReceiver> logger)
{
    public async Task<IResult> ReceiveAsync(HttpContext http, IWebhookForge forge)
    {
        var eventType = forge.EventName(http.Request);
        var answer = await AnswerAsync(http, forge);
        metrics.Received(eventType, answer.StatusCode);
        return Results.Json(answer.Body, WebhookAnswer.Json, statusCode: answer.StatusCode);
    }

    private async Task<(int StatusCode, WebhookAnswer Body)> AnswerAsync(HttpContext http, IWebhookForge forge)
    {
        var settings = options.Value;
        var (body, outcome) = await WebhookBody.ReadAsync(http, settings.MaxPayloadBytes, budget);
        using var owned = body;
        switch (outcome)
        {
            case BodyRead.TooLarge:
                return Refuse(StatusCodes.Status413PayloadTooLarge, $"the body is larger than {settings.MaxPayloadBytes} bytes");
            case BodyRead.OverBudget:
                Log.OverBudget(logger, budget.Capacity);
                return Refuse(StatusCodes.Status503ServiceUnavailable,
                    "too many unverified webhook bodies are being received (Webhook:MaxUnverifiedBytes); nothing was acknowledged, retry later");
            case BodyRead.Broken:
                return Refuse(StatusCodes.Status400BadRequest, "the body could not be read");
        }

        if (settings.SecretKeys is { Count: > 0 } secrets && forge.Verify(http.Request, body.Bytes, secrets) is { IsValid: false } unsigned)
        {
            return Refuse(StatusCodes.Status401Unauthorized, unsigned.Reason);
        }

        body.Verified();
        var read = forge.Read(http.Request, body.Bytes, filter, time.GetUtcNow());
        if (read is WebhookRead.Refused refused)
        {
            return Refuse(refused.StatusCode, refused.Reason);
        }

        var delivered = (WebhookRead.Delivered)read;
        using var scope = logger.BeginScope(new Dictionary<string, object> { ["Delivery"] = delivered.Delivery, ["EventType"] = delivered.EventType });
        return await HandleAsync(forge, delivered, settings.AcceptTimeout, http.RequestAborted);
    }

    /// <summary>A delivery the forge read: a re-run, refused, ignored, or queued in its ref.</summary>
    private async Task<(int, WebhookAnswer)> HandleAsync(IWebhookForge forge, WebhookRead.Delivered delivered, TimeSpan timeout, CancellationToken aborted)
    {
        var (delivery, read) = (delivered.Delivery, delivered.Result);
        if (read is EventReadResult.RerunRequested rerun)
        {
            if (await reruns.TryAsync(forge.Name, rerun, delivery, time.GetUtcNow(), timeout, aborted) is { } answer)
            {
                return answer;
            }

            read = rerun.Otherwise;
        }

        switch (read)
        {
            case EventReadResult.Rejected rejected:
                return Refuse(StatusCodes.Status400BadRequest, rejected.Reason);
            case EventReadResult.Ignored ignored:
                return Ignore(delivery, ignored.Reason);
        }

        var hookEvent = ((EventReadResult.Accepted)read).Event;
        if ((filter.ActionIgnoreReason(hookEvent) ?? filter.IgnoreReason(hookEvent.Repository, hookEvent.Ref)) is { } reason)
        {
            return Ignore(delivery, reason);
        }

        if (filters.Value.RequireRepository && repositories.Find(RefKey.Repository(hookEvent.Forge, hookEvent.Repository)) is null)
        {
            // Before the first list nobody can say whether the repository has one: the forge delivers again.
            return repositories.Synced
                ? Ignore(delivery, $"no Repository: {hookEvent.Repository} has no usable Repository resource and Handler:RequireRepository is true")
                : Refuse(StatusCodes.Status503ServiceUnavailable, "the Repository resources have not been listed yet (Handler:RequireRepository); nothing was acknowledged, retry later");
        }

        return await EnqueueAsync(hookEvent, timeout, aborted);
    }

    private async Task<(int, WebhookAnswer)> EnqueueAsync(HookEvent hookEvent, TimeSpan timeout, CancellationToken aborted)
    {
        using var scope = logger.BeginScope(EventScope.Of(hookEvent));
        var key = hookEvent.Key;
        try
        {
            var result = await grains.GetGrain<IRefGrain>(key).Enqueue(hookEvent).WaitAsync(timeout, aborted);
            if (result.Status == EnqueueStatus.Full)
            {
                Log.Unavailable(logger, null, hookEvent.Delivery, key);
                return (StatusCodes.Status503ServiceUnavailable, new WebhookAnswer("unavailable", hookEvent.Delivery, key,
                    $"the queue of {key} is full ({result.QueueLength} pending events, Handler:MaxQueueLength); nothing was acknowledged"));
            }

            if (result.Status == EnqueueStatus.Duplicate)
            {
                Log.Duplicate(logger, hookEvent.Delivery, key);
                return (StatusCodes.Status200OK, new WebhookAnswer("duplicate", hookEvent.Delivery, key, null));
            }

            Log.Accepted(logger, hookEvent.Delivery, hookEvent.Repository, hookEvent.Ref, hookEvent.Revision, result.QueueLength);
            return (StatusCodes.Status202Accepted, new WebhookAnswer("queued", hookEvent.Delivery, key, null));
        }
        catch (TimeoutException)
        {
            Log.Unavailable(logger, null, hookEvent.Delivery, key);
            return (StatusCodes.Status503ServiceUnavailable,
                new WebhookAnswer("unavailable", hookEvent.Delivery, key, $"the event could not be stored within {timeout.TotalSeconds:0.#} s; nothing was acknowledged"));
        }
        catch (Exception e) when (!aborted.IsCancellationRequested)
        {
            Log.Unavailable(logger, e, hookEvent.Delivery, key);
            return (StatusCodes.Status503ServiceUnavailable,
                new WebhookAnswer("unavailable", hookEvent.Delivery, key, "the event could not be stored; nothing was acknowledged"));
        }
    }

    private static (int, WebhookAnswer) Refuse(int status, string reason) =>
        (status, new WebhookAnswer(status == StatusCodes.Status503ServiceUnavailable ? "unavailable" : "rejected", null, null, reason));

    private (int, WebhookAnswer) Ignore(string delivery, string reason)
    {
        Log.Ignored(logger, delivery, reason);
        return (StatusCodes.Status200OK, new WebhookAnswer("ignored", delivery, null, reason));
    }

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
