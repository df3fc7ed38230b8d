using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Manifests;
using CiTrigger.Grains.Pipeline;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CiTrigger.Grains.Kubernetes;

/// <summary>
/// The <c>Repository</c> objects of the service's namespace (<see cref="KubernetesOptions.RepositoryNamespace"/>), kept
/// in memory by one LIST and then a WATCH from its resourceVersion (no polling; a watch the server ends is opened
/// again where it stopped, an expired one leads to a new list). Every change is judged by
/// <see cref="RepositoryResources.Evaluate"/> and the verdict written to each object's <c>status.conditions</c>
/// (type <c>Ready</c>) when it differs from what the object already says, so every silo may write it and the
/// writes end. A cluster that does not serve the CRD has no repositories, and is asked again every
/// <see cref="KubernetesOptions.DiscoveryTtl"/>; until the first list answered, <see cref="Synced"/> is false.
/// </summary>
public sealed partial class RepositoryWatcher(
    IKubernetes client,
    IOptions<KubernetesOptions> options,
    IOptions<ManifestOptions> manifests,
    RetryPolicy retry,
    TimeProvider time,
    ILogger<RepositoryWatcher> logger) : BackgroundService, IRepositorySettings
{
    private readonly Dictionary<string, RepositoryResources.Seen> objects = new(StringComparer.Ordinal);
    private volatile View view = new([], new Dictionary<string, RepositorySettings>(StringComparer.Ordinal));
    private volatile bool synced;

    public bool Synced => synced;

    public IReadOnlyList<RepositoryResource> All => view.All;

    public RepositorySettings? Find(string repository) => view.Usable.GetValueOrDefault(repository);

    private string Namespace => options.Value.RepositoryNamespace ?? manifests.Value.Namespace;

    private string Path => $"apis/{RepositoryResources.Group}/{RepositoryResources.Version}/namespaces/{Namespace}/{RepositoryResources.Plural}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        var absentLogged = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (await ListAsync(stoppingToken) is not { } resourceVersion)
                {
                    if (!absentLogged)
                    {
                        Log.NotServed(logger, options.Value.DiscoveryTtl);
                        absentLogged = true;
                    }

                    await Task.Delay(options.Value.DiscoveryTtl, time, stoppingToken);
                    continue;
                }

                absentLogged = false;
                failures = 0;
                while (await WatchAsync(resourceVersion, stoppingToken) is { } resumeAt)
                {
                    resourceVersion = resumeAt;
                }
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                failures++;
                if (KubernetesFailures.IsForbidden(e))
                {
                    Log.Forbidden(logger, Namespace);
                }
                else
                {
                    Log.Broken(logger, Namespace, e.Message);
                }

                await Task.Delay(retry.Delay(failures, null), time, stoppingToken);
            }
        }
    }

    /// <summary>Lists the objects, replaces what was known, and returns the list's resourceVersion; null when the CRD is not served.</summary>
    private async Task<string?> ListAsync(CancellationToken ct)
    {
        object page;
        try
        {
            page = await client.CustomObjects.ListNamespacedCustomObjectAsync(
                RepositoryResources.Group, RepositoryResources.Version, Namespace, RepositoryResources.Plural, cancellationToken: ct);
        }
        catch (Exception e) when (KubernetesFailures.IsResourceNotServed(e))
        {
            objects.Clear();
            await PublishAsync(ct);
            synced = true;
            return null;
        }

        var root = page is JsonElement element ? element : JsonSerializer.SerializeToElement(page);
        objects.Clear();
        if (root.TryGetProperty("items", out var items) && items.ValueKind == JsonValueKind.Array)
        {
            foreach (var seen in items.EnumerateArray().Select(RepositoryResources.From).OfType<RepositoryResources.Seen>())
            {
                objects[seen.Resource] = seen;
            }
        }

        var resourceVersion = WatchRequest.ResourceVersion(root) ?? throw new InvalidDataException("the list of repositories has no resourceVersion");
        Log.Listed(logger, objects.Count, Namespace, resourceVersion);
        await PublishAsync(ct);
        synced = true;
        return resourceVersion;
    }

    /// <summary>Watches from <paramref name="resourceVersion"/>; returns where to resume, or null when a new list is needed.</summary>
    private async Task<string?> WatchAsync(string resourceVersion, CancellationToken ct)
    {
        var timeout = (int)options.Value.WatchTimeout.TotalSeconds;
        var query = $"?allowWatchBookmarks=true&resourceVersion={Uri.EscapeDataString(resourceVersion)}&timeoutSeconds={timeout}&watch=true";
        using var response = await WatchRequest.SendAsync(client, Path + query, ct);
        if (response.StatusCode == HttpStatusCode.Gone)
        {
            return null;
        }

        await using var body = await response.Content.ReadAsStreamAsync(ct);
        await using var lines = new WatchLines(body);
        var resumeAt = resourceVersion;
        while (await lines.NextAsync(ct) is { } line)
        {
            var type = line.GetProperty("type").GetString();
            var obj = line.GetProperty("object");
            if (type == "ERROR")
            {
                WatchRequest.ThrowUnlessExpired(obj, RepositoryResources.Plural);
                return null;
            }

            resumeAt = WatchRequest.ResourceVersion(obj) ?? resumeAt;
            if (type is not ("ADDED" or "MODIFIED" or "DELETED") || RepositoryResources.From(obj) is not { } seen)
            {
                continue;
            }

            if (type == "DELETED")
            {
                objects.Remove(seen.Resource);
            }
            else
            {
                objects[seen.Resource] = seen;
            }

            await PublishAsync(ct);
        }

        return resumeAt;
    }

    /// <summary>Judges the objects afresh, makes the verdict what lookups see, and writes each changed verdict to its object.</summary>
    private async Task PublishAsync(CancellationToken ct)
    {
        var (all, usable) = RepositoryResources.Evaluate(objects.Values, manifests.Value);
        var before = view;
        view = new View(all, usable);
        foreach (var verdict in all.Where(v => !before.All.Any(b => (b.Resource, b.Ready, b.Reason, b.Message) == (v.Resource, v.Ready, v.Reason, v.Message))))
        {
            Log.Judged(logger, verdict.Resource, verdict.Repository, verdict.Ready, verdict.Reason, verdict.Message);
        }

        foreach (var verdict in all)
        {
            if (objects.TryGetValue(verdict.Resource, out var seen) && Condition(seen, verdict) is { } patch)
            {
                await WriteStatusAsync(seen, patch, ct);
            }
        }
    }

    /// <summary>The status patch that makes the object say <paramref name="verdict"/>, or null when it already does.</summary>
    private JsonObject? Condition(RepositoryResources.Seen seen, RepositoryResource verdict)
    {
        var status = verdict.Ready ? "True" : "False";
        var conditions = seen.Status.ValueKind == JsonValueKind.Object && seen.Status.TryGetProperty("conditions", out var c) && c.ValueKind == JsonValueKind.Array
            ? c.EnumerateArray().ToList() : [];
        var ready = conditions.FirstOrDefault(x => x.ValueKind == JsonValueKind.Object && x.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String && t.GetString() == "Ready");
        string? Field(string name) => ready.ValueKind == JsonValueKind.Object && ready.TryGetProperty(name, out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
        var generation = ready.ValueKind == JsonValueKind.Object && ready.TryGetProperty("observedGeneration", out var g) && g.TryGetInt64(out var n) ? n : -1;
        if (Field("status") == status && Field("reason") == verdict.Reason && Field("message") == verdict.Message && generation == seen.Generation)
        {
            return null;
        }

        var transition = Field("status") == status && Field("lastTransitionTime") is { } kept ? kept
            : time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        var others = conditions.Where(x => !x.Equals(ready)).Select(x => JsonNode.Parse(x.GetRawText()));
        return new JsonObject
        {
            ["status"] = new JsonObject
            {
                ["observedGeneration"] = seen.Generation,
                ["conditions"] = new JsonArray([.. others, new JsonObject
                {
                    ["type"] = "Ready",
                    ["status"] = status,
                    ["reason"] = verdict.Reason,
                    ["message"] = verdict.Message,
                    ["observedGeneration"] = seen.Generation,
                    ["lastTransitionTime"] = transition,
                }]),
            },
        };
    }

    private async Task WriteStatusAsync(RepositoryResources.Seen seen, JsonObject patch, CancellationToken ct)
    {
        try
        {
            await client.CustomObjects.PatchNamespacedCustomObjectStatusAsync(new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch),
                RepositoryResources.Group, RepositoryResources.Version, seen.Namespace, RepositoryResources.Plural, seen.Name, cancellationToken: ct);
        }
        catch (Exception e) when (!ct.IsCancellationRequested && !KubernetesFailures.IsNotFound(e))
        {
            // The verdict is in force all the same; only the object does not show it yet. The next change writes it again.
            Log.StatusFailed(logger, seen.Resource, e.Message);
        }
        catch (Exception e) when (KubernetesFailures.IsNotFound(e))
        {
            // Deleted meanwhile: its DELETED change follows.
        }
    }

    private sealed record View(IReadOnlyList<RepositoryResource> All, IReadOnlyDictionary<string, RepositorySettings> Usable);

    private static partial class Log
    {
        [LoggerMessage(190, LogLevel.Information, "The cluster serves no Repository resources (CRD repositories.k8s-webhook-handler.io); every repository uses the global options. Looking again every {Interval}")]
        public static partial void NotServed(ILogger logger, TimeSpan interval);

        [LoggerMessage(191, LogLevel.Information, "Listed {Count} Repository objects in {Namespace} at resourceVersion {ResourceVersion}")]
        public static partial void Listed(ILogger logger, int count, string @namespace, string resourceVersion);

        [LoggerMessage(192, LogLevel.Error, "The service account may not list and watch Repository objects in {Namespace}: grant list and watch on repositories.k8s-webhook-handler.io (k8s/rbac.yaml); retrying")]
        public static partial void Forbidden(ILogger logger, string @namespace);

        [LoggerMessage(193, LogLevel.Warning, "Watching Repository objects in {Namespace} failed, listing again after a pause: {Error}")]
        public static partial void Broken(ILogger logger, string @namespace, string error);

        [LoggerMessage(194, LogLevel.Information, "Repository {Resource} ({Repository}): ready {Ready}, {Reason}: {Message}")]
        public static partial void Judged(ILogger logger, string resource, string repository, bool ready, string reason, string message);

        [LoggerMessage(195, LogLevel.Warning, "Could not write the status of Repository {Resource}: {Error}")]
        public static partial void StatusFailed(ILogger logger, string resource, string error);
    }
}
