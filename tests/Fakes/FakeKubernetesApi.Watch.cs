using System.Globalization;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http;

namespace CiTrigger.Tests.Fakes;

/// <summary>
/// Watches, merge patches, deletes, and what a test does in place of a controller: as kube-apiserver v1.20
/// does (checked by the agreement table in tests/Tests/RealCluster), a watch answers 200 and streams JSON
/// lines <c>{"type":"ADDED|MODIFIED|DELETED|ERROR","object":…}</c>; from no resourceVersion (or "0") it
/// starts with the current objects as ADDED; from one older than the events the fake still keeps
/// (<see cref="WatchWindow"/>) it sends one ERROR event with a 410 "Expired" Status and ends; it ends
/// cleanly after <c>timeoutSeconds</c>. Unknown query parameters are ignored, as the real server ignores them.
/// </summary>
public sealed partial class FakeKubernetesApi
{
    private const string WatchItem = "fake-kubernetes-watch";

    /// <summary>Kinds a test installs, as their CRDs would be: Tekton's PipelineRun and TaskRun.</summary>
    private static readonly Resource[] TektonResources =
    [
        new("tekton.dev", "v1", "pipelineruns", "PipelineRun", true),
        new("tekton.dev", "v1", "taskruns", "TaskRun", true),
    ];

    private readonly LinkedList<WatchEvent> history = new();
    private readonly List<Watcher> watchers = [];

    /// <summary>Events older than every kept one: a watch from before this resourceVersion is told it expired.</summary>
    private long expiredBefore = 1000;

    private long watchEventsSent;

    /// <summary>Watch events (lines) written to watch connections so far.</summary>
    public long WatchEventsSent => Interlocked.Read(ref watchEventsSent);

    /// <summary>How many events the fake keeps for watches that resume from a resourceVersion.</summary>
    public int WatchWindow { get; set; } = 1000;

    /// <summary>Watch connections open now.</summary>
    public int OpenWatches
    {
        get
        {
            lock (watchers)
            {
                return watchers.Count;
            }
        }
    }

    /// <summary>Serves Tekton's PipelineRun and TaskRun, as installing their CRDs would.</summary>
    public void ServeTekton() => resources = [.. resources, .. TektonResources.Where(t => !resources.Contains(t))];

    /// <summary>Breaks every open watch connection, as a lost network or a restarted server would.</summary>
    public void DropWatches()
    {
        List<Watcher> open;
        lock (watchers)
        {
            open = [.. watchers];
        }

        foreach (var watcher in open)
        {
            try
            {
                watcher.Drop.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // That watch ended on its own between the snapshot and now.
            }
        }
    }

    /// <summary>Forgets every kept event, so a watch from any resourceVersion seen so far is told it expired.</summary>
    public void ExpireHistory()
    {
        gate.Wait();
        try
        {
            expiredBefore = long.Parse(NextVersion(), CultureInfo.InvariantCulture);
            history.Clear();
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Writes an object's <c>status</c> as its controller (Argo, the Job controller, Tekton) would.</summary>
    public void WriteStatus(string apiVersion, string kind, string ns, string name, JsonObject status)
    {
        var resource = resources.First(r => r.ApiVersion == apiVersion && r.Kind == kind);
        gate.Wait();
        try
        {
            var key = Key(resource, ns, name);
            var updated = (JsonObject)objects[key].DeepClone();
            updated["status"] = status.DeepClone();
            Stamp(updated["metadata"]!.AsObject(), ns);
            objects[key] = updated;
            Publish("MODIFIED", resource, ns, updated);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>True for a watch, false for a list, null for a watch value the server cannot parse.</summary>
    private static bool? IsWatch(IQueryCollection query) => query["watch"].ToString() switch
    {
        "" or "false" or "0" or "False" => false,
        "true" or "1" or "True" => true,
        _ => null,
    };

    private static string MediaType(RecordedRequest r) => r.ContentType.Split(';')[0].Trim();

    /// <summary>Called under the gate with every change, so a watch registered under it misses nothing.</summary>
    private void Publish(string type, Resource resource, string? ns, JsonObject obj)
    {
        var change = new WatchEvent(long.Parse(obj["metadata"]!["resourceVersion"]!.GetValue<string>(), CultureInfo.InvariantCulture),
            type, resource, ns, (JsonObject)obj.DeepClone());
        history.AddLast(change);
        while (history.Count > WatchWindow)
        {
            expiredBefore = history.First!.Value.Version;
            history.RemoveFirst();
        }

        lock (watchers)
        {
            foreach (var watcher in watchers.Where(w => w.Wants(change)))
            {
                watcher.Lines.Writer.TryWrite(Line(type, change.Object));
            }
        }
    }

    private (int, JsonNode) Watch(Resource resource, string? ns, HttpContext http)
    {
        var query = http.Request.Query;
        if (LabelSelector.Parse(query["labelSelector"].ToString()) is not { } selector)
        {
            return Failure(400, "BadRequest", $"unable to parse requirement: {query["labelSelector"]}");
        }

        var from = query["resourceVersion"].ToString();
        long since = 0;
        if (from is not ("" or "0") && !long.TryParse(from, NumberStyles.None, CultureInfo.InvariantCulture, out since))
        {
            return Failure(400, "BadRequest", $"resourceVersion: Invalid value: \"{from}\": strconv.ParseUint: parsing \"{from}\": invalid syntax");
        }

        var timeout = query["timeoutSeconds"].ToString();
        int seconds = 0;
        if (timeout.Length > 0 && !int.TryParse(timeout, NumberStyles.None, CultureInfo.InvariantCulture, out seconds))
        {
            return Failure(400, "BadRequest", $"timeoutSeconds: Invalid value: \"{timeout}\"");
        }

        var watcher = new Watcher(resource, ns, selector, Channel.CreateUnbounded<string>(), new CancellationTokenSource(),
            seconds > 0 ? TimeSpan.FromSeconds(seconds) : Timeout.InfiniteTimeSpan);
        if (since > 0 && since < expiredBefore)
        {
            var (_, status) = Failure(410, "Expired", $"too old resource version: {since} ({expiredBefore})");
            watcher.Lines.Writer.TryWrite(Line("ERROR", status));
            watcher.Lines.Writer.Complete();
        }
        else
        {
            var backlog = since > 0
                ? history.Where(e => e.Version > since && watcher.Wants(e)).Select(e => Line(e.Type, e.Object))
                : objects.Where(o => o.Key.StartsWith(Key(resource, ns, ""), StringComparison.Ordinal) && selector(o.Value))
                    .OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => Line("ADDED", o.Value));
            foreach (var line in backlog)
            {
                watcher.Lines.Writer.TryWrite(line);
            }

            lock (watchers)
            {
                watchers.Add(watcher);
            }
        }

        http.Items[WatchItem] = watcher;
        return (200, new JsonObject());
    }

    private async Task StreamAsync(HttpContext http, Watcher watcher)
    {
        http.Response.ContentType = "application/json";
        using var ends = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, watcher.Drop.Token);
        ends.CancelAfter(watcher.Timeout);
        try
        {
            // kube-apiserver sends the headers at once, before any event.
            await http.Response.StartAsync(ends.Token);
            await http.Response.Body.FlushAsync(ends.Token);
            await foreach (var line in watcher.Lines.Reader.ReadAllAsync(ends.Token))
            {
                await http.Response.WriteAsync(line + "\n", ends.Token);
                await http.Response.Body.FlushAsync(ends.Token);
                Interlocked.Increment(ref watchEventsSent);
            }
        }
        catch (OperationCanceledException)
        {
            // The timeout ends the watch cleanly; a drop breaks the connection below.
        }
        finally
        {
            lock (watchers)
            {
                watchers.Remove(watcher);
            }
        }

        if (watcher.Drop.IsCancellationRequested)
        {
            http.Abort();
        }

        watcher.Drop.Dispose();
    }

    private (int, JsonNode) MergePatch(Resource resource, string? ns, string name, RecordedRequest r)
    {
        JsonObject patch;
        try
        {
            patch = JsonNode.Parse(r.Body) as JsonObject ?? throw new System.Text.Json.JsonException("not an object");
        }
        catch (System.Text.Json.JsonException e)
        {
            return Failure(400, "BadRequest", $"error decoding patch: {e.Message}");
        }

        var key = Key(resource, ns, name);
        if (!objects.TryGetValue(key, out var live))
        {
            return Failure(404, "NotFound", $"{resource.Qualified()} \"{name}\" not found", Details(name, resource.Group, resource.Plural));
        }

        // Every kind the fake serves declares a status subresource: the main resource leaves status alone.
        var updated = (JsonObject)Merge(live.DeepClone(), patch)!;
        updated["status"] = live["status"]?.DeepClone();
        if (live["status"] is null)
        {
            updated.Remove("status");
        }

        if ((Validate(resource, name, updated) ?? ValidateUpdate(resource, name, live, updated)) is { } rejected)
        {
            return rejected;
        }

        return StoreChanged(resource, ns, key, live, updated);
    }

    /// <summary>RFC 7386: objects merge, null removes, anything else replaces.</summary>
    private static JsonNode? Merge(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject patchObject)
        {
            return patch?.DeepClone();
        }

        var result = target as JsonObject ?? new JsonObject();
        foreach (var (field, value) in patchObject)
        {
            if (value is null)
            {
                result.Remove(field);
            }
            else
            {
                result[field] = Merge(result[field]?.DeepClone(), value);
            }
        }

        return result;
    }

    /// <summary>
    /// A DELETE as kube-apiserver answers it: its DeleteOptions come from the body when there is one (the query's are then
    /// ignored) and from the query otherwise; a precondition (uid, resourceVersion) the object no longer meets is a 409;
    /// an object deleted in the background (the default, but for a batch/v1 Job, which orphans its pods by default) is
    /// gone at once; one deleted with orphans or in the foreground stays, marked with the finalizer the garbage collector
    /// would act on, since this server, like an API server alone, has none.
    /// </summary>
    private (int, JsonNode) Delete(Resource resource, string? ns, string name, RecordedRequest r, IQueryCollection query)
    {
        string policy;
        JsonObject? preconditions = null;
        if (r.Body.Length > 0)
        {
            if (MediaType(r) != "application/json")
            {
                return Failure(415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (got {r.ContentType})");
            }

            try
            {
                var options = JsonNode.Parse(r.Body) as JsonObject ?? throw new System.Text.Json.JsonException("not an object");
                policy = options["propagationPolicy"]?.GetValue<string>() ?? "";
                preconditions = options["preconditions"] as JsonObject;
            }
            catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException)
            {
                return Failure(400, "BadRequest", $"couldn't get version/kind; json parse error: {e.Message}");
            }
        }
        else
        {
            policy = query["propagationPolicy"].ToString();
        }

        if (policy is not ("" or "Foreground" or "Background" or "Orphan"))
        {
            var message = $"Unsupported value: \"{policy}\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\"";
            return Failure(422, "Invalid", $"DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: {message}",
                Details(null, "meta.k8s.io", "DeleteOptions", ("FieldValueNotSupported", message, "propagationPolicy")));
        }

        var key = Key(resource, ns, name);
        if (!objects.TryGetValue(key, out var live))
        {
            return Failure(404, "NotFound", $"{resource.Qualified()} \"{name}\" not found", Details(name, resource.Group, resource.Plural));
        }

        var metadata = live["metadata"]!;
        foreach (var (field, words, why) in new[] { ("uid", "UID", "deleted and then recreated"), ("resourceVersion", "ResourceVersion", "modified") })
        {
            if (preconditions?[field]?.GetValue<string>() is { } expected && expected != metadata[field]?.GetValue<string>())
            {
                return Failure(409, "Conflict", $"Operation cannot be fulfilled on {resource.Qualified(resource.Kind)} \"{name}\": the {words} in the precondition ({expected}) does not match the {words} in record ({metadata[field]}). The object might have been {why}",
                    Details(name, resource.Group, resource.Kind));
            }
        }

        if (metadata["deletionTimestamp"] is not null)
        {
            return Failure(500, "InternalError", "the fake does not imitate deleting an object that is already being deleted");
        }

        var effective = policy.Length > 0 ? policy : resource.ApiVersion == "batch/v1" && resource.Kind == "Job" ? "Orphan" : "Background";
        if (effective != "Background")
        {
            var marked = (JsonObject)live.DeepClone();
            var markedMetadata = marked["metadata"]!.AsObject();
            if (markedMetadata["finalizers"] is not JsonArray finalizers)
            {
                markedMetadata["finalizers"] = finalizers = new JsonArray();
            }

            finalizers.Add(effective == "Orphan" ? "orphan" : "foregroundDeletion");
            markedMetadata["deletionTimestamp"] = Clock.GetUtcNow().ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
            markedMetadata["deletionGracePeriodSeconds"] = 0;
            return StoreChanged(resource, ns, key, live, marked);
        }

        objects.TryRemove(key, out var removed);
        fieldOwners.TryRemove(key, out _);
        removed!["metadata"]!["resourceVersion"] = NextVersion();
        Publish("DELETED", resource, ns, removed);
        var details = Details(name, resource.Group, resource.Plural);
        details["uid"] = removed["metadata"]!["uid"]?.DeepClone();
        return (200, new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Success",
            ["details"] = details,
        });
    }

    private static string Line(string type, JsonNode obj) => new JsonObject { ["type"] = type, ["object"] = obj.DeepClone() }.ToJsonString();

    private sealed record WatchEvent(long Version, string Type, Resource Resource, string? Namespace, JsonObject Object);

    private sealed record Watcher(Resource Resource, string? Namespace, Func<JsonObject, bool> Selector, Channel<string> Lines,
        CancellationTokenSource Drop, TimeSpan Timeout)
    {
        public bool Wants(WatchEvent change) =>
            change.Resource == Resource && (Namespace is null || change.Namespace == Namespace) && Selector(change.Object);
    }
}

/// <summary>The label selector forms kube-apiserver accepts that this service could send: key, !key, key=value, key==value, key!=value.</summary>
internal static class LabelSelector
{
    /// <summary>A predicate on objects, or null when the selector does not parse.</summary>
    public static Func<JsonObject, bool>? Parse(string selector)
    {
        var terms = new List<Func<JsonObject, bool>>();
        foreach (var term in selector.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(t => t.Trim()))
        {
            var (key, op, value) = term.Contains("!=", StringComparison.Ordinal) ? Split(term, "!=")
                : term.Contains("==", StringComparison.Ordinal) ? Split(term, "==")
                : term.Contains('=', StringComparison.Ordinal) ? Split(term, "=")
                : term.StartsWith('!') ? (term[1..], "!", "")
                : (term, "", "");
            if (key.Length == 0 || key.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '/')))
            {
                return null;
            }

            terms.Add(op switch
            {
                "" => o => Label(o, key) is not null,
                "!" => o => Label(o, key) is null,
                "!=" => o => Label(o, key) != value,
                _ => o => Label(o, key) == value,
            });
        }

        return o => terms.All(t => t(o));
    }

    private static (string, string, string) Split(string term, string op)
    {
        var at = term.IndexOf(op, StringComparison.Ordinal);
        return (term[..at].Trim(), op, term[(at + op.Length)..].Trim());
    }

    private static string? Label(JsonObject obj, string key) => obj["metadata"]?["labels"]?[key]?.GetValue<string>();
}
