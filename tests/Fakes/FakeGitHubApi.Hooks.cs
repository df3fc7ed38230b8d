using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace CiTrigger.Tests.Fakes;

/// <summary>
/// Webhooks and their deliveries: repository and organization hooks (list, create, edit, with GitHub's
/// validation), the delivery logs of hooks and of an App's own webhook in cursor pages, newest first,
/// and redelivery, which answers 202 and then really posts the stored payload again (same guid, signed)
/// to the hook's URL, recording the new attempt.
/// </summary>
public sealed partial class FakeGitHubApi
{
    private const int DefaultPerPage = 30;
    private const int MaxPerPage = 100;
    private static readonly TimeSpan RedeliveryWindow = TimeSpan.FromDays(3);

    /// <summary>Every event name the hooks endpoints accept here (GitHub knows more; these are the ones tests use).</summary>
    private static readonly HashSet<string> KnownEvents = new(StringComparer.Ordinal)
    {
        "*", "push", "delete", "create", "check_run", "check_suite", "pull_request", "issue_comment", "issues", "release",
        "status", "workflow_run", "workflow_job", "repository", "installation", "installation_repositories", "ping",
    };

    private static long lastDeliveryId = 90_000_000;
    private static long lastHookId = 400_000;

    private readonly ConcurrentDictionary<string, Organization> organizations = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<Task, byte> redeliveries = new();
    private readonly ConcurrentQueue<long> redeliveryRequests = new();
    private readonly HttpClient redeliveryClient = new() { Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>
    /// How a delivery is signed: the body and the hook's secret to the <c>X-Hub-Signature-256</c> value.
    /// Tests hand in the service's own signing code, so the fake and the service cannot drift apart.
    /// </summary>
    public Func<byte[], string, string>? Signer { get; set; }

    /// <summary>Delivery ids GitHub was asked to redeliver, in order.</summary>
    public IReadOnlyList<long> RedeliveryRequests => [.. redeliveryRequests];

    /// <summary>Adds (or returns) an organization.</summary>
    public Organization Org(string name) => organizations.GetOrAdd(name, n => new Organization(n));

    private Reply RouteOrganization(Caller caller, RecordedGitHubRequest r, HttpRequest request, string path)
    {
        var parts = path.Split('/', 3);
        if (parts.Length < 2 || parts[1] != "hooks" || !organizations.TryGetValue(parts[0], out var org))
        {
            return Error(404, "Not Found");
        }

        return RouteHooks(caller, r, request, org.Hooks, org.HookRefusal, "Organization", $"orgs/{org.Name}/hooks", parts.Length == 3 ? parts[2] : "");
    }

    private Reply RouteHooks(Caller caller, RecordedGitHubRequest r, HttpRequest request, HookList hooks, int? refusal, string owner, string basePath, string rest)
    {
        switch (caller)
        {
            case AnonymousCaller:
                return Error(401, "Requires authentication");
            case InstallationCaller:
                return Error(403, "Resource not accessible by integration");
        }

        if (refusal is { } status)
        {
            return status == 404 ? Error(404, "Not Found") : Error(status, $"Must have admin rights to {owner}.");
        }

        var parts = rest.Length == 0 ? [] : rest.Split('/');
        if (parts.Length == 0)
        {
            return r.Method switch
            {
                "GET" => Json(200, new JsonArray([.. hooks.All.Select(h => h.ToJson(BaseAddress, basePath, hooks.Type))])),
                "POST" => CreateHook(hooks, basePath, r.Body),
                _ => Error(404, "Not Found"),
            };
        }

        if (!long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var id) || !hooks.TryGet(id, out var hook))
        {
            return Error(404, "Not Found");
        }

        return (r.Method, parts.Length) switch
        {
            ("GET", 1) => Json(200, hook.ToJson(BaseAddress, basePath, hooks.Type)),
            ("PATCH", 1) => EditHook(hooks, hook, basePath, r.Body),
            (_, > 1) when parts[1] == "deliveries" => RouteDeliveries(r, request, hook.Deliveries, $"{basePath}/{id}/deliveries", string.Join('/', parts[2..])),
            _ => Error(404, "Not Found"),
        };
    }

    private Reply CreateHook(HookList hooks, string basePath, string body)
    {
        if (ParseObject(body) is not { } json)
        {
            return Error(400, "Problems parsing JSON");
        }

        if (json["name"] is { } name && name.ToString() != "web")
        {
            return Error(422, "Validation Failed: name must be 'web'");
        }

        if (json["config"] is not JsonObject config)
        {
            return Error(422, "Validation Failed: config is missing");
        }

        var hook = new Hook(Interlocked.Increment(ref lastHookId), Time.GetUtcNow());
        if (ApplyHookFields(hook, json, config, hooks) is { } invalid)
        {
            return invalid;
        }

        hooks.Add(hook);
        return Json(201, hook.ToJson(BaseAddress, basePath, hooks.Type));
    }

    private Reply EditHook(HookList hooks, Hook hook, string basePath, string body)
    {
        if (ParseObject(body) is not { } json)
        {
            return Error(400, "Problems parsing JSON");
        }

        if (json["config"] is { } config and not JsonObject)
        {
            return Error(422, "Validation Failed: config must be an object");
        }

        lock (hook)
        {
            if (ApplyHookFields(hook, json, json["config"] as JsonObject, hooks) is { } invalid)
            {
                return invalid;
            }

            hook.UpdatedAt = Time.GetUtcNow();
        }

        return Json(200, hook.ToJson(BaseAddress, basePath, hooks.Type));
    }

    /// <summary>Validates everything first and changes the hook only when all of it is valid.</summary>
    private static Reply? ApplyHookFields(Hook hook, JsonObject json, JsonObject? config, HookList hooks)
    {
        string? url = null, contentType = null, secret = null;
        if (config is not null)
        {
            url = config["url"] is JsonValue u && u.GetValueKind() == JsonValueKind.String ? u.GetValue<string>() : null;
            if (url is null || !Uri.TryCreate(url, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https"))
            {
                return Error(422, "Validation Failed: url is not a valid URL");
            }

            if (hooks.All.Any(h => h.Id != hook.Id && h.Url == url))
            {
                return Error(422, $"Validation Failed: Hook already exists on this {hooks.Type.ToLowerInvariant()}");
            }

            contentType = config["content_type"]?.ToString() ?? "form";
            if (contentType is not ("json" or "form"))
            {
                return Error(422, "Validation Failed: content_type must be json or form");
            }

            secret = config["secret"]?.ToString();
        }

        List<string>? events = null;
        if (json["events"] is { } eventsNode)
        {
            if (eventsNode is not JsonArray array || array.Count == 0
                || array.Any(e => e is not JsonValue v || v.GetValueKind() != JsonValueKind.String || !KnownEvents.Contains(v.GetValue<string>())))
            {
                return Error(422, "Validation Failed: events must be a non-empty list of event names");
            }

            events = [.. array.Select(e => e!.GetValue<string>())];
        }

        bool? active = null;
        if (json["active"] is { } activeNode)
        {
            if (activeNode.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
            {
                return Error(422, "Validation Failed: active must be a boolean");
            }

            active = activeNode.GetValue<bool>();
        }

        if (config is not null)
        {
            (hook.Url, hook.ContentType, hook.Secret) = (url!, contentType!, secret);
        }

        hook.Events = events ?? (hook.Events.Count == 0 ? ["push"] : hook.Events);
        hook.Active = active ?? hook.Active;
        return null;
    }

    private Reply RouteDeliveries(RecordedGitHubRequest r, HttpRequest request, DeliveryLog log, string basePath, string rest)
    {
        var parts = rest.Length == 0 ? [] : rest.Split('/');
        if (r.Method == "GET" && parts.Length == 0)
        {
            return ListDeliveries(request, log, basePath);
        }

        if (r.Method == "POST" && parts is [var id, "attempts"])
        {
            return long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var deliveryId) && log.Find(deliveryId) is { } delivery
                ? Redeliver(log, delivery)
                : Error(404, "Not Found");
        }

        return Error(404, "Not Found");
    }

    private Reply ListDeliveries(HttpRequest request, DeliveryLog log, string basePath)
    {
        var perPage = DefaultPerPage;
        if (request.Query.TryGetValue("per_page", out var perPageText)
            && (!int.TryParse(perPageText, NumberStyles.None, CultureInfo.InvariantCulture, out perPage) || perPage < 1))
        {
            return Error(422, "Validation Failed: per_page must be a positive integer");
        }

        perPage = Math.Min(perPage, MaxPerPage);
        var before = long.MaxValue;
        if (request.Query.TryGetValue("cursor", out var cursor)
            && !(cursor.ToString().StartsWith("v1_", StringComparison.Ordinal)
                && long.TryParse(cursor.ToString()[3..], NumberStyles.None, CultureInfo.InvariantCulture, out before)))
        {
            return Error(400, "Invalid cursor");
        }

        var older = log.All.Where(d => d.Id < before).OrderByDescending(d => d.Id).ToList();
        var page = older.Take(perPage).ToList();
        var link = older.Count > perPage
            ? $"<{BaseAddress}api/v3/{basePath}?per_page={perPage}&cursor=v1_{page[^1].Id}>; rel=\"next\""
            : null;
        return Json(200, new JsonArray([.. page.Select(d => d.ToJson())]), link);
    }

    private Reply Redeliver(DeliveryLog log, HookDelivery delivery)
    {
        if (Time.GetUtcNow() - delivery.DeliveredAt > RedeliveryWindow)
        {
            return Error(422, "Validation Failed: a delivery older than 3 days cannot be redelivered");
        }

        redeliveryRequests.Enqueue(delivery.Id);
        if (log.Target() is { } target)
        {
            var sending = SendAsync(log, delivery, target.Url, target.Secret);
            redeliveries[sending] = 0;
            _ = sending.ContinueWith(t => redeliveries.TryRemove(t, out _), TaskScheduler.Default);
        }

        return Json(202, new JsonObject());
    }

    /// <summary>Posts a delivery the way GitHub does and records the attempt in the log.</summary>
    private async Task SendAsync(DeliveryLog log, HookDelivery original, Uri url, string? secret)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(original.Payload) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.UserAgent.ParseAdd("GitHub-Hookshot/fake");
        request.Headers.Add("X-GitHub-Event", original.Event);
        request.Headers.Add("X-GitHub-Delivery", original.DeliveryGuid);
        if (secret is not null && Signer is { } sign)
        {
            request.Headers.Add("X-Hub-Signature-256", sign(original.Payload, secret));
        }

        var started = Time.GetUtcNow();
        int status;
        try
        {
            using var response = await redeliveryClient.SendAsync(request);
            status = (int)response.StatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            status = 0;
        }

        log.Add(original.Event, original.Payload, status, started, original.DeliveryGuid, original.Action, original.InstallationId, original.RepositoryId, redelivery: true);
    }

    /// <summary>An organization: its webhooks.</summary>
    public sealed class Organization(string name)
    {
        public string Name { get; } = name;

        public HookList Hooks { get; } = new("Organization");

        /// <summary>When set, the hooks endpoints answer this status (403, 404).</summary>
        public int? HookRefusal { get; set; }
    }

    /// <summary>The webhooks of a repository or an organization.</summary>
    public sealed class HookList(string type)
    {
        private readonly ConcurrentDictionary<long, Hook> hooks = new();

        public string Type { get; } = type;

        public IReadOnlyList<Hook> All => [.. hooks.Values.OrderBy(h => h.Id)];

        public void Add(Hook hook) => hooks[hook.Id] = hook;

        public bool TryGet(long id, out Hook hook) => hooks.TryGetValue(id, out hook!);
    }

    public sealed class Hook
    {
        public Hook(long id, DateTimeOffset createdAt)
        {
            Id = id;
            CreatedAt = UpdatedAt = createdAt;
            Deliveries = new DeliveryLog(() => Url.Length > 0 ? (new Uri(Url), Secret) : null);
        }

        public long Id { get; }

        public string Url { get; set; } = "";

        public string ContentType { get; set; } = "form";

        public string? Secret { get; set; }

        public List<string> Events { get; set; } = [];

        public bool Active { get; set; } = true;

        public DateTimeOffset CreatedAt { get; }

        public DateTimeOffset UpdatedAt { get; set; }

        public DeliveryLog Deliveries { get; }

        internal JsonObject ToJson(Uri baseAddress, string basePath, string type)
        {
            var self = $"{baseAddress}api/v3/{basePath}/{Id}";
            var last = Deliveries.All.MaxBy(d => d.Id);
            var config = new JsonObject { ["content_type"] = ContentType, ["insecure_ssl"] = "0", ["url"] = Url };
            if (Secret is not null)
            {
                config["secret"] = "********";
            }

            return new JsonObject
            {
                ["type"] = type,
                ["id"] = Id,
                ["name"] = "web",
                ["active"] = Active,
                ["events"] = new JsonArray([.. Events.Select(e => (JsonNode?)e)]),
                ["config"] = config,
                ["updated_at"] = Iso(UpdatedAt),
                ["created_at"] = Iso(CreatedAt),
                ["url"] = self,
                ["ping_url"] = self + "/pings",
                ["deliveries_url"] = self + "/deliveries",
                ["last_response"] = last is null
                    ? new JsonObject { ["code"] = null, ["status"] = "unused", ["message"] = null }
                    : new JsonObject { ["code"] = last.StatusCode, ["status"] = last.Succeeded ? "active" : "failed", ["message"] = last.Status },
            };
        }
    }

    /// <summary>The deliveries of one webhook (a repository's, an organization's or an App's).</summary>
    public sealed class DeliveryLog(Func<(Uri Url, string? Secret)?>? target = null)
    {
        private readonly ConcurrentDictionary<long, HookDelivery> deliveries = new();

        internal Func<(Uri Url, string? Secret)?> Target { get; } = target ?? (() => null);

        public IReadOnlyList<HookDelivery> All => [.. deliveries.Values.OrderBy(d => d.Id)];

        public HookDelivery? Find(long id) => deliveries.GetValueOrDefault(id);

        /// <summary>
        /// Records that GitHub delivered (or tried to deliver) a payload, as the delivery log shows it. Add them
        /// in the order GitHub made them: the log is listed newest first by id, and ids grow with time.
        /// </summary>
        public HookDelivery Add(string eventType, byte[] payload, int statusCode, DateTimeOffset deliveredAt, string? deliveryGuid = null,
            string? action = null, long? installationId = null, long? repositoryId = null, bool redelivery = false)
        {
            var delivery = new HookDelivery(Interlocked.Increment(ref lastDeliveryId), deliveryGuid ?? Guid.NewGuid().ToString(), deliveredAt,
                redelivery, statusCode, eventType, action, installationId, repositoryId, payload);
            deliveries[delivery.Id] = delivery;
            return delivery;
        }

        public HookDelivery Add(string eventType, string payload, int statusCode, DateTimeOffset deliveredAt, string? deliveryGuid = null,
            string? action = null, long? installationId = null, long? repositoryId = null) =>
            Add(eventType, Encoding.UTF8.GetBytes(payload), statusCode, deliveredAt, deliveryGuid, action, installationId, repositoryId);
    }

    public sealed record HookDelivery(long Id, string DeliveryGuid, DateTimeOffset DeliveredAt, bool Redelivery, int StatusCode, string Event,
        string? Action, long? InstallationId, long? RepositoryId, byte[] Payload)
    {
        public bool Succeeded => StatusCode is >= 200 and < 300;

        public string Status => Succeeded ? "OK" : StatusCode == 0 ? "Timed out" : $"Invalid HTTP Response: {StatusCode}";

        internal JsonObject ToJson() => new()
        {
            ["id"] = Id,
            ["guid"] = DeliveryGuid,
            ["delivered_at"] = Iso(DeliveredAt),
            ["redelivery"] = Redelivery,
            ["duration"] = 0.27,
            ["status"] = Status,
            ["status_code"] = StatusCode,
            ["event"] = Event,
            ["action"] = Action,
            ["installation_id"] = InstallationId,
            ["repository_id"] = RepositoryId,
            ["throttled_at"] = null,
        };
    }

    private static string Iso(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
}
