using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace CiTrigger.Tests.Fakes;

/// <summary>
/// A Kubernetes API server on loopback Kestrel that is as strict as a real one about what this service
/// sends: discovery documents, <c>Status</c> error bodies, namespace checks, generateName, the apply
/// patch content type with its required <c>fieldManager</c>, names and label values, a pod's log
/// (<c>pods/{name}/log</c>). It keeps the objects it was given, records every request, and can fail, slow
/// down or refuse connections on demand.
/// </summary>
public sealed partial class FakeKubernetesApi : IAsyncDisposable
{
    public const string Token = "fake-cluster-token";

    private static readonly Resource[] DefaultResources =
    [
        new("", "v1", "configmaps", "ConfigMap", true),
        new("", "v1", "secrets", "Secret", true),
        new("", "v1", "pods", "Pod", true),
        new("", "v1", "services", "Service", true),
        new("", "v1", "serviceaccounts", "ServiceAccount", true),
        new("", "v1", "namespaces", "Namespace", false),
        new("argoproj.io", "v1alpha1", "workflows", "Workflow", true, RequiresSpec: true),
        new("argoproj.io", "v1alpha1", "workflowtemplates", "WorkflowTemplate", true),
        new("argoproj.io", "v1alpha1", "clusterworkflowtemplates", "ClusterWorkflowTemplate", false),
        new("batch", "v1", "jobs", "Job", true),
        new("rbac.authorization.k8s.io", "v1", "roles", "Role", true),
        new("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", false),
    ];

    /// <summary>kube-apiserver answers a path no API serves with a plain-text page, not a Status.</summary>
    private static readonly JsonNode PageNotFound = JsonValue.Create("404 page not found\n");

    private Resource[] resources = DefaultResources;
    private readonly ConcurrentDictionary<string, JsonObject> objects = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ServerSideApply> fieldOwners = new(StringComparer.Ordinal);

    // The rest of each paged list by its continue token (a test's lists are few; they are kept for the fake's life).
    private readonly ConcurrentDictionary<string, ListPage> pages = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<RecordedRequest> requests = new();
    private readonly ConcurrentQueue<JsonObject> creations = new();
    private readonly List<(Func<RecordedRequest, bool> Matches, int Status)> injected = [];
    private int held;
    private readonly SemaphoreSlim gate = new(1, 1);
    private WebApplication? app;
    private int port;
    private long resourceVersion = 1000;

    private FakeKubernetesApi()
    {
    }

    public Uri BaseAddress => new($"http://127.0.0.1:{port}/");

    public HashSet<string> Namespaces { get; } = ["ci", "default", "other"];

    /// <summary>Share of requests (after discovery) answered 500/503 with a Status body.</summary>
    public double FailureRate { get; set; }

    /// <summary>Share of successful writes whose answer is lost: the object is stored, the client gets a 500.</summary>
    public double LostAnswerRate { get; set; }

    /// <summary>
    /// Keep objects, requests and creations (the default). A benchmark turns this off so the fake's memory
    /// stays flat; objects are then validated and answered but forgotten.
    /// </summary>
    public bool Retain { get; set; } = true;

    /// <summary>
    /// Plays the controllers of run objects for tests that are not about runs: a Workflow, Job, PipelineRun
    /// or TaskRun gets a succeeded <c>status</c> (a MODIFIED change) right after it is created, so the event's
    /// run finishes. Tests that follow runs turn it off and write <c>status</c> themselves.
    /// </summary>
    public bool RunsSucceed { get; set; } = true;

    /// <summary>Called with every object the moment it is first created.</summary>
    public Action<JsonObject>? Created { get; set; }

    /// <summary>The server's clock, which stamps <c>creationTimestamp</c> (a test that orders objects by it advances a fake one).</summary>
    public TimeProvider Clock { get; set; } = TimeProvider.System;

    /// <summary>Added to every request before it is answered.</summary>
    public TimeSpan Latency { get; set; }

    /// <summary>When set, requests whose path matches wait until it completes (to hold an apply in flight).</summary>
    public Func<RecordedRequest, Task>? Hold { get; set; }

    public IReadOnlyList<RecordedRequest> Requests => [.. requests];

    /// <summary>Mutating requests (create, apply) that succeeded, in the order they were answered.</summary>
    public IReadOnlyList<RecordedRequest> Applied => [.. requests.Where(r => r.Method is "POST" or "PATCH" && r.Status is 200 or 201)];

    public IEnumerable<JsonObject> Objects => objects.Values;

    /// <summary>Every object as it was first created, in creation order: the ground truth for "applied once".</summary>
    public IReadOnlyList<JsonObject> Creations => [.. creations];

    /// <summary>The <see cref="Creations"/> of one kind (<c>Workflow</c>, <c>Secret</c>), in creation order.</summary>
    public IReadOnlyList<JsonObject> CreationsOf(string kind) => [.. creations.Where(o => o["kind"]?.ToString() == kind)];

    /// <summary>Requests currently waiting in <see cref="Hold"/>.</summary>
    public int Held => Volatile.Read(ref held);

    /// <summary>
    /// Answers the next request that <paramref name="matches"/> with <paramref name="status"/> and a Status body
    /// (500 InternalError, 503 ServiceUnavailable, 409 Conflict…), once, instead of serving it; requests it does not
    /// match are served.
    /// </summary>
    public void FailOnce(Func<RecordedRequest, bool> matches, int status = 503)
    {
        lock (injected)
        {
            injected.Add((matches, status));
        }
    }

    private (int, JsonNode)? TakeInjectedFailure(RecordedRequest r)
    {
        lock (injected)
        {
            var index = injected.FindIndex(i => i.Matches(r));
            if (index < 0)
            {
                return null;
            }

            var status = injected[index].Status;
            injected.RemoveAt(index);
            return status switch
            {
                409 => Failure(409, "Conflict", "Operation cannot be fulfilled: injected conflict"),
                503 => Failure(503, "ServiceUnavailable", "the server is currently unable to handle the request"),
                _ => Failure(status, "InternalError", "Internal error occurred: injected failure"),
            };
        }
    }

    /// <summary>Puts an object into the store as if someone other than the service had created it.</summary>
    public void Seed(JsonObject obj)
    {
        var apiVersion = obj["apiVersion"]!.GetValue<string>();
        var kind = obj["kind"]!.GetValue<string>();
        var resource = resources.First(r => r.ApiVersion == apiVersion && r.Kind == kind);
        var metadata = obj["metadata"]!.AsObject();
        gate.Wait();
        try
        {
            metadata["resourceVersion"] = NextVersion();
            metadata["uid"] ??= Guid.NewGuid().ToString();
            var ns = metadata["namespace"]?.GetValue<string>();
            objects[Key(resource, ns, metadata["name"]!.GetValue<string>())] = obj;
            Publish("ADDED", resource, ns, obj);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <param name="runsSucceed">Whether the fake plays the run controllers (see <see cref="RunsSucceed"/>).</param>
    public static async Task<FakeKubernetesApi> StartAsync(bool runsSucceed = true)
    {
        var fake = new FakeKubernetesApi { RunsSucceed = runsSucceed };
        await fake.ListenAsync(0);
        return fake;
    }

    /// <summary>A kubeconfig file pointing at this server with a bearer token.</summary>
    public string WriteKubeConfig(string directory)
    {
        var path = Path.Combine(directory, "kubeconfig");
        File.WriteAllText(path, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: fake
              cluster:
                server: http://127.0.0.1:{port}
            users:
            - name: ci
              user:
                token: {Token}
            contexts:
            - name: fake
              context:
                cluster: fake
                user: ci
                namespace: ci
            current-context: fake
            """);
        return path;
    }

    /// <summary>Stops listening: new connections are refused until <see cref="ResumeAsync"/>.</summary>
    public async Task RefuseConnectionsAsync()
    {
        DropWatches();
        if (app is not null)
        {
            await app.StopAsync();
            await app.DisposeAsync();
            app = null;
        }
    }

    public Task ResumeAsync() => ListenAsync(port);

    public async ValueTask DisposeAsync()
    {
        await RefuseConnectionsAsync();
        gate.Dispose();
    }

    private async Task ListenAsync(int listenPort)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{listenPort}");
        var web = builder.Build();
        web.Run(HandleAsync);
        await web.StartAsync();
        port = new Uri(web.Urls.First()).Port;
        app = web;
    }

    private async Task HandleAsync(HttpContext http)
    {
        var request = http.Request;
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer);
        var recorded = new RecordedRequest(request.Method, request.Path.Value ?? "", request.QueryString.Value ?? "",
            request.ContentType ?? "", Encoding.UTF8.GetString(buffer.ToArray()));
        if (Latency > TimeSpan.Zero)
        {
            await Task.Delay(Latency);
        }

        if (Hold is { } hold)
        {
            Interlocked.Increment(ref held);
            try
            {
                await hold(recorded);
            }
            finally
            {
                Interlocked.Decrement(ref held);
            }
        }

        var (status, body) = request.Headers.Authorization.ToString() != $"Bearer {Token}"
            ? Failure(401, "Unauthorized", "Unauthorized")
            : await RouteAsync(recorded, http);
        recorded.Status = status;
        if (Retain)
        {
            requests.Enqueue(recorded);
        }

        http.Response.StatusCode = status;
        if (http.Items[WatchItem] is Watcher watcher)
        {
            await StreamAsync(http, watcher);
            return;
        }

        if (ReferenceEquals(body, PageNotFound))
        {
            http.Response.ContentType = "text/plain; charset=utf-8";
            await http.Response.WriteAsync(body.GetValue<string>());
            return;
        }

        if (http.Items[TextItem] is byte[] text)
        {
            // A log: text/plain as kube-apiserver labels what it streams from the kubelet; a 204 has no body and no type.
            if (status != 204)
            {
                http.Response.ContentType = "text/plain";
                await http.Response.Body.WriteAsync(text);
            }

            return;
        }

        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(body.ToJsonString());
    }

    private async Task<(int, JsonNode)> RouteAsync(RecordedRequest r, HttpContext http)
    {
        var path = r.Path.TrimEnd('/');
        if (r.Method == "GET" && Discovery(path) is { } document)
        {
            return (200, document);
        }

        if (FailureRate > 0 && Random.Shared.NextDouble() < FailureRate)
        {
            return Random.Shared.Next(2) == 0
                ? Failure(500, "InternalError", "Internal error occurred: injected failure")
                : Failure(503, "ServiceUnavailable", "the server is currently unable to handle the request");
        }

        if (TakeInjectedFailure(r) is { } injected)
        {
            return injected;
        }

        var match = ObjectPath().Match(path);
        if (!match.Success)
        {
            return (404, PageNotFound);
        }

        var group = match.Groups["group"].Success ? match.Groups["group"].Value : "";
        var version = match.Groups["version"].Value;
        var ns = match.Groups["ns"].Success ? match.Groups["ns"].Value : null;
        var plural = match.Groups["plural"].Value;
        var name = match.Groups["name"].Success ? match.Groups["name"].Value : null;
        var resource = resources.FirstOrDefault(x => x.Group == group && x.Version == version && x.Plural == plural);
        if (resource is null)
        {
            return (404, PageNotFound);
        }

        if (match.Groups["sub"].Success)
        {
            return Subresource(resource, ns, name!, match.Groups["sub"].Value, r, http);
        }

        if (resource.Namespaced != (ns is not null))
        {
            return Failure(404, "NotFound", $"the server could not find the requested resource ({plural} is {(resource.Namespaced ? "" : "not ")}namespaced)");
        }

        if (ns is not null && !Namespaces.Contains(ns))
        {
            return Failure(404, "NotFound", $"namespaces \"{ns}\" not found", Details(ns, "", "namespaces"));
        }

        await gate.WaitAsync();
        try
        {
            var (status, body) = (r.Method, name) switch
            {
                ("GET", null) when IsWatch(http.Request.Query) is { } watch => watch ? Watch(resource, ns, http) : List(resource, ns, http.Request.Query),
                ("GET", { } n) => objects.TryGetValue(Key(resource, ns, n), out var found)
                    ? (200, found.DeepClone())
                    : Failure(404, "NotFound", $"{resource.Qualified()} \"{n}\" not found", Details(n, resource.Group, resource.Plural)),
                ("POST", null) => Create(resource, ns, r, http.Request.Query),
                ("PATCH", { } n) when MediaType(r) == "application/merge-patch+json" => MergePatch(resource, ns, n, r),
                ("PATCH", { } n) => Apply(resource, ns, n, r, http.Request.Query),
                ("DELETE", { } n) => Delete(resource, ns, n, r, http.Request.Query),
                ("GET", null) => Failure(400, "BadRequest", $"watch: invalid value '{http.Request.Query["watch"]}'"),
                _ => Failure(405, "MethodNotAllowed", $"{r.Method} is not supported here"),
            };
            return status is 200 or 201 && r.Method != "GET" && LostAnswerRate > 0 && Random.Shared.NextDouble() < LostAnswerRate
                ? Failure(500, "InternalError", "injected: the write happened but its answer was lost")
                : (status, body);
        }
        finally
        {
            gate.Release();
        }
    }

    private (int, JsonNode) List(Resource resource, string? ns, IQueryCollection query)
    {
        var selector = query["labelSelector"].ToString();
        if (LabelSelector.Parse(selector) is not { } labelled)
        {
            return Failure(400, "BadRequest", $"unable to parse requirement: {selector}");
        }

        // Every kind, custom resources too, can be selected by metadata.name and metadata.namespace; the fake knows no other field.
        var fieldSelector = query["fieldSelector"].ToString();
        var fields = new List<Func<JsonObject, bool>>();
        foreach (var term in fieldSelector.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var op = term.Contains("!=", StringComparison.Ordinal) ? "!=" : term.Contains("==", StringComparison.Ordinal) ? "==" : "=";
            var parts = term.Split(op, 2);
            if (parts.Length != 2 || parts[0].Trim() is not ("metadata.name" or "metadata.namespace"))
            {
                return Failure(400, "BadRequest", $"field label not supported: {parts[0].Trim()}");
            }

            var (field, value) = (parts[0].Trim()["metadata.".Length..], parts[1].Trim());
            fields.Add(o => (o["metadata"]?[field]?.ToString() == value) == (op != "!="));
        }

        Func<JsonObject, bool> matches = o => labelled(o) && fields.All(f => f(o));

        var limitText = query["limit"].ToString();
        long limit = 0;
        if (limitText.Length > 0 && !long.TryParse(limitText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out limit))
        {
            return Failure(400, "BadRequest", $"strconv.ParseInt: parsing \"{limitText}\": invalid syntax");
        }

        // A continued list is served from the snapshot its first page was taken from, as etcd serves it at the first page's revision.
        string version;
        JsonNode[] items;
        var token = query["continue"].ToString();
        if (token.Length > 0)
        {
            if (!pages.TryGetValue(token, out var page))
            {
                return Failure(400, "BadRequest", "invalid continue token: continue key is not valid: the fake never gave this token");
            }

            if (long.Parse(page.Version, CultureInfo.InvariantCulture) < expiredBefore)
            {
                return Failure(410, "Expired", "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.");
            }

            (version, items) = (page.Version, page.Rest);
        }
        else
        {
            version = NextVersion();
            items = [.. objects
                .Where(o => o.Key.StartsWith(Key(resource, ns, ""), StringComparison.Ordinal))
                .OrderBy(o => o.Key, StringComparer.Ordinal) // etcd's key order, as kube-apiserver lists
                .Select(o => o.Value)
                .Where(matches)
                .Select(o => o.DeepClone())];
        }

        var metadata = new JsonObject { ["resourceVersion"] = version };
        if (limit > 0 && items.Length > limit)
        {
            var next = System.Buffers.Text.Base64Url.EncodeToString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(18));
            pages[next] = new ListPage(version, items[(int)limit..]);
            metadata["continue"] = next;

            // The real server counts what is left only when nothing filters the list.
            if (selector.Length == 0)
            {
                metadata["remainingItemCount"] = items.Length - limit;
            }

            items = items[..(int)limit];
        }

        return (200, new JsonObject
        {
            ["kind"] = resource.Kind + "List",
            ["apiVersion"] = resource.ApiVersion,
            ["metadata"] = metadata,
            ["items"] = new JsonArray([.. items.Select(i => i.DeepClone())]),
        });
    }

    private (int, JsonNode) Create(Resource resource, string? ns, RecordedRequest r, IQueryCollection query)
    {
        if (!r.ContentType.StartsWith("application/json", StringComparison.Ordinal))
        {
            return Failure(415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (got {r.ContentType})");
        }

        if (ParseObject(r.Body, resource, ns, out var obj) is { } invalid)
        {
            return invalid;
        }

        var metadata = obj["metadata"]!.AsObject();
        var name = metadata["name"]?.GetValue<string>();
        if (string.IsNullOrEmpty(name))
        {
            var prefix = metadata["generateName"]?.GetValue<string>();
            if (string.IsNullOrEmpty(prefix))
            {
                return Failure(422, "Invalid", $"{resource.Qualified(resource.Kind)} \"\" is invalid: metadata.name: Required value: name or generateName is required");
            }

            name = prefix + RandomSuffix();
            metadata["name"] = name;
        }

        if (Validate(resource, name, obj) is { } rejected)
        {
            return rejected;
        }

        var key = Key(resource, ns, name);
        if (objects.ContainsKey(key))
        {
            return Failure(409, "AlreadyExists", $"{resource.Qualified()} \"{name}\" already exists", Details(name, resource.Group, resource.Plural));
        }

        Stamp(metadata, ns);
        var owners = new ServerSideApply();
        owners.Created(query["fieldManager"].ToString() is { Length: > 0 } manager ? manager : "unknown", obj);
        Remember(key, obj, owners, resource, ns);
        return (201, obj.DeepClone());
    }

    private (int, JsonNode) Apply(Resource resource, string? ns, string name, RecordedRequest r, IQueryCollection query)
    {
        // Like the API server, match the media type without its parameters (charset).
        if (MediaType(r) != "application/apply-patch+yaml")
        {
            return Failure(415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml");
        }

        var manager = query["fieldManager"].ToString();
        if (manager.Length == 0)
        {
            return Failure(422, "Invalid", "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
                Details(null, "meta.k8s.io", "PatchOptions", ("FieldValueRequired", "Required value: is required for apply patch", "fieldManager")));
        }

        // The body of an apply patch is YAML; this service sends JSON, which YAML includes.
        if (ParseObject(r.Body, resource, ns, out var obj) is { } invalid)
        {
            return invalid;
        }

        var metadata = obj["metadata"]!.AsObject();
        if (metadata["name"]?.GetValue<string>() != name)
        {
            return Failure(400, "BadRequest", "the name of the object does not match the name on the URL");
        }

        var key = Key(resource, ns, name);
        if (!objects.TryGetValue(key, out var live) || !fieldOwners.TryGetValue(key, out var owners))
        {
            if (Validate(resource, name, obj) is { } rejected)
            {
                return rejected;
            }

            Stamp(metadata, ns);
            var created = new ServerSideApply();
            created.Created(manager, obj);
            Remember(key, obj, created, resource, ns);
            return (201, obj.DeepClone());
        }

        var conflicts = owners.Conflicts(manager, live, obj);
        if (conflicts.Count > 0 && query["force"] != "true")
        {
            return Failure(409, "Conflict", ServerSideApply.ConflictMessage(conflicts),
                Details(null, "", null, [.. conflicts.Select(c => ("FieldManagerConflict", $"conflict with \"{c.Manager}\"", ServerSideApply.Display(c.Path)))]));
        }

        var updated = (JsonObject)live.DeepClone();
        owners.Apply(manager, updated, obj);
        if ((Validate(resource, name, updated) ?? ValidateUpdate(resource, name, live, updated)) is { } invalidResult)
        {
            return invalidResult;
        }

        return StoreChanged(resource, ns, key, live, updated);
    }

    /// <summary>
    /// Stores <paramref name="updated"/> in place of <paramref name="live"/> and answers it. Like the API server,
    /// a write that changes nothing writes nothing: the resourceVersion stays and no watch hears of it.
    /// </summary>
    private (int, JsonNode) StoreChanged(Resource resource, string? ns, string key, JsonObject live, JsonObject updated)
    {
        if (!JsonNode.DeepEquals(updated, live))
        {
            Stamp(updated["metadata"]!.AsObject(), ns);
            objects[key] = updated;
            Publish("MODIFIED", resource, ns, updated);
        }

        return (200, objects[key].DeepClone());
    }

    /// <summary>
    /// What the API server's validation (the CRD's schema for Workflows) refuses in a whole object: its name, its
    /// ownerReferences, a Secret's type and data (a Secret's <c>stringData</c> is first merged into its <c>data</c>,
    /// as the API server does before it validates and stores it).
    /// </summary>
    private static (int, JsonNode)? Validate(Resource resource, string name, JsonObject obj)
    {
        if (!DnsSubdomain().IsMatch(name) || name.Length > 253)
        {
            return Failure(422, "Invalid", $"{resource.Qualified(resource.Kind)} \"{name}\" is invalid: metadata.name: Invalid value: \"{name}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'",
                Details(name, resource.Group, resource.Kind, ("FieldValueInvalid", $"Invalid value: \"{name}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'", "metadata.name")));
        }

        var refused = ValidateOwnerReferences(resource, name, obj) ?? (resource.Kind == "Secret" && resource.Group.Length == 0 ? ValidateSecret(resource, name, obj) : null);
        if (refused is not null)
        {
            return refused;
        }

        return resource.RequiresSpec && obj["spec"] is null
            ? Failure(422, "Invalid", $"{resource.Qualified(resource.Kind)} \"{name}\" is invalid: spec: Required value",
                Details(name, resource.Group, resource.Kind, ("FieldValueRequired", "Required value", "spec")))
            : null;
    }

    /// <summary>The checks every write gets: JSON object, matching kind and namespace, string-valued metadata maps.</summary>
    private static (int, JsonNode)? ParseObject(string body, Resource resource, string? ns, out JsonObject obj)
    {
        obj = new JsonObject();
        try
        {
            if (JsonNode.Parse(body) is not JsonObject parsed)
            {
                return Failure(400, "BadRequest", "the body is not a JSON object");
            }

            obj = parsed;
        }
        catch (JsonException e)
        {
            return Failure(400, "BadRequest", $"couldn't get version/kind; json parse error: {e.Message}");
        }

        if (obj["apiVersion"]?.ToString() != resource.ApiVersion || obj["kind"]?.ToString() != resource.Kind)
        {
            return Failure(400, "BadRequest", $"the API version in the data ({obj["apiVersion"]}) does not match the expected API version ({resource.ApiVersion}) or kind ({obj["kind"]} vs {resource.Kind})");
        }

        if (obj["metadata"] is not JsonObject metadata)
        {
            return Failure(422, "Invalid", "metadata: Required value");
        }

        if (metadata["namespace"]?.ToString() is { } objectNs && objectNs != ns)
        {
            return Failure(400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request");
        }

        foreach (var field in new[] { "annotations", "labels" })
        {
            if (metadata[field] is null)
            {
                continue;
            }

            if (metadata[field] is not JsonObject map || map.Any(kv => kv.Value is not JsonValue v || v.GetValueKind() != JsonValueKind.String))
            {
                return Failure(400, "BadRequest", $"json: cannot unmarshal into Go struct field ObjectMeta.metadata.{field} of type string");
            }

            if (field == "labels" && map.Any(kv => kv.Value!.GetValue<string>() is var value && (value.Length > 63 || (value.Length > 0 && !LabelValue().IsMatch(value)))))
            {
                return Failure(422, "Invalid", "metadata.labels: Invalid value: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.'");
            }
        }

        return null;
    }

    /// <summary>What each run kind's controller writes when the run succeeded.</summary>
    private static JsonObject? SucceededStatus(string kind) => kind switch
    {
        "Workflow" => new JsonObject { ["phase"] = "Succeeded" },
        "Job" => new JsonObject { ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Complete", ["status"] = "True" }), ["succeeded"] = 1 },
        "PipelineRun" or "TaskRun" => new JsonObject { ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Succeeded", ["status"] = "True", ["reason"] = "Succeeded" }) },
        _ => null,
    };

    private void Remember(string key, JsonObject obj, ServerSideApply owners, Resource resource, string? ns)
    {
        Created?.Invoke(obj);
        Publish("ADDED", resource, ns, obj);
        if (RunsSucceed && SucceededStatus(resource.Kind) is { } status)
        {
            var finished = (JsonObject)obj.DeepClone();
            finished["status"] = status;
            Stamp(finished["metadata"]!.AsObject(), ns);
            obj = finished;
            Publish("MODIFIED", resource, ns, obj);
        }

        if (Retain)
        {
            objects[key] = obj;
            fieldOwners[key] = owners;
            creations.Enqueue((JsonObject)obj.DeepClone());
        }
    }

    private void Stamp(JsonObject metadata, string? ns)
    {
        if (ns is not null)
        {
            metadata["namespace"] = ns;
        }

        metadata["uid"] ??= Guid.NewGuid().ToString();
        metadata["resourceVersion"] = NextVersion();
        metadata["creationTimestamp"] ??= Clock.GetUtcNow().ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
    }

    private string NextVersion() => Interlocked.Increment(ref resourceVersion).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string Key(Resource resource, string? ns, string name) => $"{resource.ApiVersion}/{resource.Plural}/{ns}/{name}";

    private static string RandomSuffix() => string.Concat(Enumerable.Range(0, 5).Select(_ => "bcdfghjklmnpqrstvwxz2456789"[Random.Shared.Next(27)]));

    private JsonNode? Discovery(string path)
    {
        if (path == "/api")
        {
            return new JsonObject { ["kind"] = "APIVersions", ["versions"] = new JsonArray("v1"), ["serverAddressByClientCIDRs"] = new JsonArray() };
        }

        if (path == "/apis")
        {
            var groups = resources.Where(r => r.Group.Length > 0).GroupBy(r => r.Group).Select(g => (JsonNode?)new JsonObject
            {
                ["name"] = g.Key,
                ["versions"] = new JsonArray(g.Select(r => r.Version).Distinct().Select(v => (JsonNode?)new JsonObject { ["groupVersion"] = $"{g.Key}/{v}", ["version"] = v }).ToArray()),
                ["preferredVersion"] = new JsonObject { ["groupVersion"] = $"{g.Key}/{g.First().Version}", ["version"] = g.First().Version },
            });
            return new JsonObject { ["kind"] = "APIGroupList", ["apiVersion"] = "v1", ["groups"] = new JsonArray(groups.ToArray()) };
        }

        var groupVersion = path == "/api/v1" ? "v1" : path.StartsWith("/apis/", StringComparison.Ordinal) && path.Count(c => c == '/') == 3 ? path["/apis/".Length..] : null;
        var served = resources.Where(r => r.ApiVersion == groupVersion).ToList();
        if (groupVersion is null || served.Count == 0)
        {
            return null;
        }

        // As kube-apiserver writes it: the core group's list carries no apiVersion, the others "v1".
        var list = new JsonObject { ["kind"] = "APIResourceList" };
        if (groupVersion != "v1")
        {
            list["apiVersion"] = "v1";
        }

        list["groupVersion"] = groupVersion;
        list["resources"] = new JsonArray(served.SelectMany(r => new JsonNode?[]
        {
            new JsonObject { ["name"] = r.Plural, ["singularName"] = r.Kind.ToLowerInvariant(), ["namespaced"] = r.Namespaced, ["kind"] = r.Kind, ["verbs"] = new JsonArray("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch") },
            new JsonObject { ["name"] = r.Plural + "/status", ["singularName"] = "", ["namespaced"] = r.Namespaced, ["kind"] = r.Kind, ["verbs"] = new JsonArray("get", "patch", "update") },
        }.Concat(r.Plural == "pods" && r.Group.Length == 0
            ? [new JsonObject { ["name"] = "pods/log", ["singularName"] = "", ["namespaced"] = true, ["kind"] = "Pod", ["verbs"] = new JsonArray("get") }]
            : [])).ToArray());
        return list;
    }

    private static (int, JsonNode) Failure(int code, string reason, string message, JsonObject? details = null)
    {
        var status = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = message,
            ["reason"] = reason,
        };
        if (details is not null)
        {
            status["details"] = details;
        }

        status["code"] = code;
        return (code, status);
    }

    /// <summary>A Status's details as kube-apiserver fills them: empty fields left out, kind plural or singular as it says.</summary>
    private static JsonObject Details(string? name, string group, string? kind, params (string Reason, string Message, string Field)[] causes)
    {
        var details = new JsonObject();
        if (!string.IsNullOrEmpty(name))
        {
            details["name"] = name;
        }

        if (group.Length > 0)
        {
            details["group"] = group;
        }

        if (kind is not null)
        {
            details["kind"] = kind;
        }

        if (causes.Length > 0)
        {
            details["causes"] = new JsonArray([.. causes.Select(c => (JsonNode?)new JsonObject { ["reason"] = c.Reason, ["message"] = c.Message, ["field"] = c.Field })]);
        }

        return details;
    }

    [GeneratedRegex("^(?:/api/(?<version>v1)|/apis/(?<group>[^/]+)/(?<version>[^/]+))(?:/namespaces/(?<ns>[^/]+))?/(?<plural>[^/]+)(?:/(?<name>[^/]+)(?:/(?<sub>[^/]+))?)?$")]
    private static partial Regex ObjectPath();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex DnsSubdomain();

    [GeneratedRegex("^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")]
    private static partial Regex LabelValue();

    private sealed record ListPage(string Version, JsonNode[] Rest);

    private sealed record Resource(string Group, string Version, string Plural, string Kind, bool Namespaced, bool RequiresSpec = false)
    {
        public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

        /// <summary>How the API server names the resource (or a kind of it) in messages: "workflows.argoproj.io", "configmaps".</summary>
        public string Qualified(string? kindOrPlural = null) => Group.Length == 0 ? kindOrPlural ?? Plural : $"{kindOrPlural ?? Plural}.{Group}";
    }
}

/// <summary>One request as a fake server saw it, with the status it answered.</summary>
public sealed record RecordedRequest(string Method, string Path, string Query, string ContentType, string Body)
{
    public int Status { get; set; }

    public JsonObject Json => JsonNode.Parse(Body)!.AsObject();

    // A failed assertion names the requests: the record's own ToString would read Json, which throws on a body-less GET.
    public override string ToString() => $"{Method} {Path}{Query} → {Status}";
}
