using System.Net;
using System.Text.Json;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Manifests;
using CiTrigger.Grains.Pipeline;
using k8s;
using k8s.Autorest;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CiTrigger.Grains.Kubernetes;

/// <summary>
/// Follows the run objects the service created: for each of the <see cref="RunKinds"/> the cluster serves (at the
/// version its discovery prefers) and each namespace the service applies to (<see cref="ManifestOptions.NamespaceSet"/>),
/// one LIST by the delivery label (in pages), then one WATCH from that list's resourceVersion, so the cost is one request per change, whatever the number of objects. A watch the
/// server ends is opened again where it stopped; an expired (410) or broken one, or a report the observer
/// could not take, leads to a new list, which the observer reconciles against what it followed. A kind the
/// cluster does not serve is looked for again every <see cref="KubernetesOptions.DiscoveryTtl"/>, so a CRD
/// installed later is followed too. Without an <see cref="IRunObserver"/> nothing is followed.
/// </summary>
public sealed partial class KubernetesRunFollower(
    IKubernetes client,
    ApiDiscovery discovery,
    IOptions<ManifestOptions> manifests,
    IOptions<KubernetesOptions> options,
    RetryPolicy retry,
    TimeProvider time,
    ILogger<KubernetesRunFollower> logger,
    IRunObserver? observer = null) : BackgroundService, IRunControl
{
    /// <summary>Objects per page of a list (client-go's pager takes 500 too): a large namespace is not one huge answer.</summary>
    public const int ListPageSize = 500;

    /// <summary>
    /// Reports of one watch in flight at once: different refs take their changes in parallel (one ref at a time
    /// took a grain call each, and a burst of finished runs waited in line), each ref in the watch's order.
    /// </summary>
    public const int ReportsInFlight = 32;

    public bool Follows => true;

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (observer is null)
        {
            Log.NoObserver(logger);
            return Task.CompletedTask;
        }

        // Every namespace a manifest may apply to: a run there is followed like one in the home namespace.
        var namespaces = manifests.Value.NamespaceSet.Order(StringComparer.Ordinal).ToList();
        return Task.WhenAll(RunKinds.All.SelectMany(k => namespaces.Select(ns => FollowAsync(observer, k.Group, k.Kind, ns, stoppingToken))));
    }

    private async Task FollowAsync(IRunObserver receiver, string group, string kind, string ns, CancellationToken ct)
    {
        var failures = 0;
        var refusedLogged = false;
        var unservedLogged = false;
        while (!ct.IsCancellationRequested)
        {
            ApiResource? resource = null;
            try
            {
                resource = await ResolveAsync(group, kind, ct);
                if (resource is null)
                {
                    if (!unservedLogged)
                    {
                        Log.NotServed(logger, group, kind, options.Value.DiscoveryTtl);
                        unservedLogged = true;
                    }

                    await Task.Delay(options.Value.DiscoveryTtl, time, ct);
                    continue;
                }

                unservedLogged = false;
                var resourceVersion = await ListAsync(receiver, resource, ns, ct);
                failures = 0;
                refusedLogged = false;
                while (await WatchAsync(receiver, resource, ns, resourceVersion, ct) is { } resumeAt)
                {
                    resourceVersion = resumeAt;
                }

                Log.Expired(logger, kind, ns, resourceVersion);
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                failures++;
                if (e is HttpOperationException refused && KubernetesFailures.IsForbidden(refused) && resource is not null)
                {
                    if (!refusedLogged)
                    {
                        var access = new ApiAccess("list", resource, new ObjectRef(resource.ApiVersion, kind, ns, null, null));
                        Log.Refused(logger, kind, ns, ApiRefusal.Forbidden(ApiRefusal.StatusMessage(refused.Response.Content), access, manifests.Value.Namespace, RunKinds.FollowVerbs));
                        refusedLogged = true;
                    }
                }
                else
                {
                    if (KubernetesFailures.IsNotFound(e) && resource is not null)
                    {
                        discovery.Forget(resource.ApiVersion);
                    }

                    Log.Broken(logger, kind, ns, e.Message);
                }

                await Task.Delay(retry.Delay(failures, null), time, ct);
            }
        }
    }

    /// <summary>The kind at the version its group prefers, or null when the cluster does not serve it.</summary>
    private async Task<ApiResource?> ResolveAsync(string group, string kind, CancellationToken ct)
    {
        var groups = await client.Apis.GetAPIVersionsAsync(ct);
        var preferred = groups.Groups?.FirstOrDefault(g => g.Name == group)?.PreferredVersion?.GroupVersion;
        return preferred is null ? null : await discovery.ResolveAsync(preferred, kind, ct);
    }

    /// <summary>
    /// Lists the kind's labelled objects in <paramref name="ns"/> in pages of <see cref="ListPageSize"/> (every page from the first one's
    /// snapshot, so the list is consistent at its resourceVersion), tells the observer, and returns that
    /// resourceVersion. A continue token that expired between pages (410) fails the list, which starts over.
    /// </summary>
    private async Task<string> ListAsync(IRunObserver receiver, ApiResource r, string ns, CancellationToken ct)
    {
        var states = new List<RunObjectState>();
        string? resourceVersion = null;
        string? next = null;
        do
        {
            var page = await client.CustomObjects.ListNamespacedCustomObjectAsync(r.Group, r.Version, ns, r.Plural,
                continueParameter: next, labelSelector: ManifestAnnotator.DeliveryLabel, limit: ListPageSize, cancellationToken: ct);
            var root = page is JsonElement element ? element : JsonSerializer.SerializeToElement(page);
            if (root.TryGetProperty("items", out var items) && items.ValueKind == JsonValueKind.Array)
            {
                states.AddRange(items.EnumerateArray().Select(i => RunClassification.State(r.ApiVersion, r.Kind, i)).OfType<RunObjectState>());
            }

            var metadata = root.TryGetProperty("metadata", out var m) && m.ValueKind == JsonValueKind.Object ? m : default;
            resourceVersion ??= metadata.ValueKind == JsonValueKind.Object && metadata.TryGetProperty("resourceVersion", out var v)
                && v.ValueKind == JsonValueKind.String ? v.GetString()! : throw new InvalidDataException($"the list of {r.Plural} has no resourceVersion");
            next = metadata.TryGetProperty("continue", out var c) && c.ValueKind == JsonValueKind.String && c.GetString() is { Length: > 0 } token ? token : null;
        }
        while (next is not null);

        Log.Listed(logger, r.Kind, ns, states.Count, states.Count(s => s.Result == RunResult.Running), resourceVersion);
        await receiver.ListedAsync(new RunListScope(r.ApiVersion, r.Kind, ns), states, ct);
        return resourceVersion;
    }

    /// <summary>
    /// Watches from <paramref name="resourceVersion"/> until the server ends the watch, and returns where to
    /// resume; null when the server says the version expired (a new list is needed). A broken connection
    /// or a refusal throws.
    /// </summary>
    private async Task<string?> WatchAsync(IRunObserver receiver, ApiResource r, string ns, string resourceVersion, CancellationToken ct)
    {
        var timeout = (int)options.Value.WatchTimeout.TotalSeconds;
        var query = $"?allowWatchBookmarks=true&labelSelector={Uri.EscapeDataString(ManifestAnnotator.DeliveryLabel)}"
            + $"&resourceVersion={Uri.EscapeDataString(resourceVersion)}&timeoutSeconds={timeout}&watch=true";
        using var response = await WatchRequest.SendAsync(client, $"{r.Path(ns)}{query}", ct);
        if (response.StatusCode == HttpStatusCode.Gone)
        {
            return null;
        }

        await using var body = await response.Content.ReadAsStreamAsync(ct);
        await using var lines = new WatchLines(body);
        using var reports = new KeyedFanOut(ReportsInFlight);
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(ct, reports.Failed);
        string? resumeAt = resourceVersion;
        try
        {
            while (await NextAsync(lines, reports, reading.Token, ct) is { } line)
            {
                var type = line.GetProperty("type").GetString();
                var obj = line.GetProperty("object");
                if (type == "ERROR")
                {
                    WatchRequest.ThrowUnlessExpired(obj, r.Plural);
                    resumeAt = null;
                    break;
                }

                if (News(r, type, obj) is { } state)
                {
                    // Keyed as the ref grain is: one ref takes its changes in the watch's order.
                    await reports.PostAsync(RefKey.For(state.Forge ?? ForgeNames.GitHub, state.Repository, state.Ref), () => receiver.ChangedAsync(state, ct), ct);
                }

                resumeAt = WatchRequest.ResourceVersion(obj) ?? resumeAt;
            }
        }
        finally
        {
            // The reports already made finish before the watch is resumed, or before the list that follows a broken one.
            await reports.WhenIdleAsync();
        }

        // Resumed where it stopped only when every report made succeeded; a failed one ends the watch, and a list follows.
        reports.ThrowIfFailed();
        return resumeAt;
    }

    /// <summary>The watch's next event; a report that failed meanwhile ends the wait and is thrown.</summary>
    private static async Task<JsonElement?> NextAsync(WatchLines lines, KeyedFanOut reports, CancellationToken reading, CancellationToken ct)
    {
        try
        {
            return await lines.NextAsync(reading);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            // Only a failed report cancels the read while the follower runs; its failure is set before the cancel.
            reports.ThrowIfFailed();
            throw;
        }
    }

    /// <summary>Only finished objects, and unfinished ones deleted, are news; a running object changing is not.</summary>
    private static RunObjectState? News(ApiResource r, string? type, JsonElement obj)
    {
        if (type is not ("ADDED" or "MODIFIED" or "DELETED") || RunClassification.State(r.ApiVersion, r.Kind, obj) is not { } state)
        {
            return null;
        }

        return (type, state.Result) switch
        {
            ("DELETED", RunResult.Running) => state with { Result = RunResult.Cancelled, Message = "deleted before it finished" },
            ("DELETED", _) or (_, RunResult.Running) => null,
            _ => state,
        };
    }

    private static partial class Log
    {
        [LoggerMessage(60, LogLevel.Warning, "Run objects are not followed: no run observer is registered")]
        public static partial void NoObserver(ILogger logger);

        [LoggerMessage(61, LogLevel.Information, "Listed {Count} {Kind} objects in {Namespace} ({Running} running) at resourceVersion {ResourceVersion}")]
        public static partial void Listed(ILogger logger, string kind, string @namespace, int count, int running, string resourceVersion);

        [LoggerMessage(62, LogLevel.Information, "The cluster serves no {Kind} of {Group}; looking again every {Interval}")]
        public static partial void NotServed(ILogger logger, string group, string kind, TimeSpan interval);

        [LoggerMessage(63, LogLevel.Information, "The watch of {Kind} in {Namespace} expired at resourceVersion {ResourceVersion}; listing again")]
        public static partial void Expired(ILogger logger, string kind, string @namespace, string resourceVersion);

        [LoggerMessage(64, LogLevel.Warning, "Following {Kind} in {Namespace} failed, listing again after a pause: {Error}")]
        public static partial void Broken(ILogger logger, string kind, string @namespace, string error);

        [LoggerMessage(65, LogLevel.Error, "Run objects of kind {Kind} in {Namespace} cannot be followed: {Refusal}")]
        public static partial void Refused(ILogger logger, string kind, string @namespace, string refusal);
    }
}
