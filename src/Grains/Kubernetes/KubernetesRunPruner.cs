using System.Text.Json;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Manifests;
using CiTrigger.Grains.Pipeline;
using CiTrigger.Grains.Telemetry;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CiTrigger.Grains.Kubernetes;

/// <summary>
/// Prunes a ref's run objects (<see cref="IRunPruner"/>): for every one of the <see cref="RunKinds"/> the cluster serves (at
/// the version its group prefers) and every namespace of the prune, one LIST by the ref's and pipeline's labels
/// (<see cref="RunPruning.Selector"/>, in pages); then <see cref="RunPruning.Select"/> decides, across kinds and namespaces,
/// and each object chosen is deleted with its uid and resourceVersion as preconditions (one that changed since, such as
/// an Argo Workflow retried, is left: the server answers 409) and <c>propagationPolicy=Background</c>. Each deletion is
/// counted (<c>citrigger_runs_pruned_total</c>).
/// </summary>
public sealed partial class KubernetesRunPruner(
    IKubernetes client,
    ApiDiscovery discovery,
    IOptions<ManifestOptions> manifests,
    TriggerMetrics metrics,
    ILogger<KubernetesRunPruner> logger) : IRunPruner
{
    public async Task<IReadOnlyList<RunObjectRecord>> PruneAsync(RunPrune prune, CancellationToken cancellationToken)
    {
        var selector = RunPruning.Selector(prune.Key, prune.Pipeline);
        var listed = new List<PruneCandidate>();
        var resources = new Dictionary<string, ApiResource>(StringComparer.Ordinal);
        var groups = await Classified(() => client.Apis.GetAPIVersionsAsync(cancellationToken), "reading the API groups", cancellationToken);
        foreach (var kind in RunKinds.All)
        {
            var preferred = groups.Groups?.FirstOrDefault(g => g.Name == kind.Group)?.PreferredVersion?.GroupVersion;
            var resource = preferred is null ? null
                : await Classified(() => discovery.ResolveAsync(preferred, kind.Kind, cancellationToken), $"discovering {kind.Kind}", cancellationToken);
            if (resource is null)
            {
                // Not served: the cluster holds no object of the kind.
                continue;
            }

            resources[resource.ApiVersion + "/" + resource.Kind] = resource;
            foreach (var ns in prune.Namespaces.Order(StringComparer.Ordinal))
            {
                listed.AddRange(await ListAsync(resource, ns, selector, cancellationToken));
            }
        }

        var deleted = new List<RunObjectRecord>();
        Exception? failure = null;
        foreach (var doomed in RunPruning.Select(listed, prune))
        {
            var s = doomed.State;
            try
            {
                if (await DeleteAsync(resources[s.ApiVersion + "/" + s.Kind], doomed, cancellationToken))
                {
                    metrics.RunPruned(s.Kind);
                    deleted.Add(new RunObjectRecord(s.ApiVersion, s.Kind, s.Namespace, s.Name, s.Result, s.Message, Pipeline: doomed.Pipeline));
                }
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                // The others are still deleted; the first failure is the prune's.
                failure ??= e;
            }
        }

        return failure is null ? deleted : throw failure;
    }

    private async Task<IEnumerable<PruneCandidate>> ListAsync(ApiResource r, string ns, string selector, CancellationToken ct)
    {
        var found = new List<PruneCandidate>();
        string? next = null;
        do
        {
            object page;
            try
            {
                page = await Classified(() => client.CustomObjects.ListNamespacedCustomObjectAsync(r.Group, r.Version, ns, r.Plural,
                    continueParameter: next, labelSelector: selector, limit: KubernetesRunFollower.ListPageSize, cancellationToken: ct),
                    $"listing {r.Plural} in {ns}", ct, new ApiAccess("list", r, new ObjectRef(r.ApiVersion, r.Kind, ns, null, null)));
            }
            catch (PermanentException e) when (e.InnerException is { } error && KubernetesFailures.IsResourceNotServed(error))
            {
                // Removed since discovery: no objects of it are left; the next prune looks the kind up again.
                discovery.Forget(r.ApiVersion);
                return [];
            }

            var root = page is JsonElement element ? element : JsonSerializer.SerializeToElement(page);
            if (root.TryGetProperty("items", out var items) && items.ValueKind == JsonValueKind.Array)
            {
                found.AddRange(items.EnumerateArray().Select(i => RunPruning.Read(r.ApiVersion, r.Kind, i)).OfType<PruneCandidate>());
            }

            next = root.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object
                && metadata.TryGetProperty("continue", out var c) && c.ValueKind == JsonValueKind.String && c.GetString() is { Length: > 0 } token ? token : null;
        }
        while (next is not null);

        return found;
    }

    /// <summary>Deletes one object as it was listed; false when it is gone already or changed since it was listed.</summary>
    private async Task<bool> DeleteAsync(ApiResource r, PruneCandidate doomed, CancellationToken ct)
    {
        var s = doomed.State;
        // All in the body: with a body, the API server reads no DeleteOptions from the query (a Job's pods would be orphaned).
        var options = new V1DeleteOptions
        {
            PropagationPolicy = "Background",
            Preconditions = new V1Preconditions { Uid = doomed.Uid, ResourceVersion = doomed.ResourceVersion },
        };
        try
        {
            await Classified(() => client.CustomObjects.DeleteNamespacedCustomObjectAsync(r.Group, r.Version, s.Namespace, r.Plural, s.Name,
                body: options, cancellationToken: ct),
                $"deleting {s.Kind} {s.Namespace}/{s.Name}", ct, new ApiAccess("delete", r, new ObjectRef(s.ApiVersion, s.Kind, s.Namespace, s.Name, null)));
            Log.Deleted(logger, s.Kind, s.Namespace, s.Name, s.Repository, s.Ref);
            return true;
        }
        catch (PermanentException e) when (e.InnerException is HttpOperationException { Response.StatusCode: System.Net.HttpStatusCode.NotFound })
        {
            // Gone already: deleted by someone, or by another silo's prune.
            return false;
        }
        catch (TransientException e) when (e.InnerException is HttpOperationException { Response.StatusCode: System.Net.HttpStatusCode.Conflict })
        {
            // Changed since the list (a precondition failed): the next prune judges it as it is then.
            Log.Changed(logger, s.Kind, s.Namespace, s.Name);
            return false;
        }
    }

    /// <summary>
    /// Runs one request with its failure in the pipeline's words (<see cref="KubernetesFailures"/>); a 403 names the Role
    /// rule that allows pruning when <paramref name="access"/> says what was refused.
    /// </summary>
    private async Task<T> Classified<T>(Func<Task<T>> request, string what, CancellationToken ct, ApiAccess? access = null)
    {
        try
        {
            return await request();
        }
        catch (HttpOperationException e) when (KubernetesFailures.IsForbidden(e) && access is not null)
        {
            var refusal = ApiRefusal.Forbidden(ApiRefusal.StatusMessage(e.Response.Content), access, manifests.Value.Namespace, RunKinds.PruneVerbs);
            throw new PermanentException($"{what}: the API server answered 403: {refusal}", e);
        }
        catch (Exception e) when (KubernetesFailures.Classify(e, what, ct) is { } failure)
        {
            throw failure;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(162, LogLevel.Information, "Deleted finished {Kind} {Namespace}/{Name} of {Repository} {Ref}: beyond what its repository keeps (keepRuns)")]
        public static partial void Deleted(ILogger logger, string kind, string @namespace, string name, string repository, string @ref);

        [LoggerMessage(163, LogLevel.Debug, "{Kind} {Namespace}/{Name} changed since it was listed; not deleted now")]
        public static partial void Changed(ILogger logger, string kind, string @namespace, string name);
    }
}
