using System.Text.Json.Nodes;
using System.Text.Json;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Manifests;
using CiTrigger.Grains.Pipeline;
using Microsoft.Extensions.Options;
using k8s.Autorest;
using k8s.Models;
using k8s;

namespace CiTrigger.Grains.Kubernetes;

/// <summary>
/// Applies documents with KubernetesClient. Named objects are server-side applied, so running an event
/// again converges instead of failing, but only over an object of the same repository: a named object
/// belongs to the repository that first applied it (its repo_name annotation), and one of another
/// repository, or one this service did not create, is refused, never taken over. Objects with only
/// generateName are created, after looking for one this delivery already created (by its delivery label
/// and document index), so a crash between "created" and "recorded" never yields a second Workflow.
/// </summary>
public sealed class KubernetesManifestApplier(IKubernetes client, ApiDiscovery discovery, IOptions<ManifestOptions> options, IRepositorySettings? repositories = null) : IManifestApplier
{
    public const string FieldManager = "k8s-webhook-handler";

    /// <summary>
    /// The API verbs used on a kind, which its Role must allow: named objects are read (get, for their
    /// owner) and server-side applied (patch, which creates them the first time); generateName objects are
    /// created, and looked for by label (list) on retries.
    /// </summary>
    public static IReadOnlyList<string> VerbsFor(bool named) => named ? ["get", "patch", "create"] : ["create", "list"];

    public async Task<IReadOnlyList<AppliedObject>> ApplyAsync(IReadOnlyList<JsonObject> documents, string delivery, bool mayExist, CancellationToken cancellationToken)
    {
        var policy = new ManifestPolicy(options.Value, repositories);
        var plans = new List<(JsonObject Document, ObjectRef Ref, ApiResource Resource)>(documents.Count);
        for (var i = 0; i < documents.Count; i++)
        {
            var (apiVersion, kind) = Identify(documents[i], i);
            var resource = await Call(() => discovery.ResolveAsync(apiVersion, kind, cancellationToken), $"document {i} ({kind})", cancellationToken)
                ?? throw new ManifestException($"document {i}: the cluster serves no kind {kind} in {apiVersion}");
            var target = policy.Check(documents[i], i, resource.Namespaced);
            if (target.Name is { } name)
            {
                await Call(() => CheckOwnerAsync(documents[i], target, resource, name, cancellationToken), $"document {i} ({kind} {name})",
                    cancellationToken, new ApiAccess("get", resource, target));
            }

            plans.Add((documents[i], target, resource));
        }

        var applied = new List<AppliedObject>(plans.Count);
        for (var i = 0; i < plans.Count; i++)
        {
            var (document, target, resource) = plans[i];
            var what = $"document {i} ({target.Kind} {target.Name ?? target.GenerateName})";
            var access = new ApiAccess(target.Name is null ? "create" : "patch", resource, target);
            applied.Add(target.Name is { } name
                ? await Call(() => ServerSideApplyAsync(document, target, resource, name, cancellationToken), what, cancellationToken, access)
                : await Call(() => CreateOnceAsync(document, target, resource, delivery, i, mayExist, cancellationToken), what, cancellationToken, access));
        }

        return applied;
    }

    private static (string ApiVersion, string Kind) Identify(JsonObject document, int index) =>
        (document["apiVersion"] is JsonValue v && v.TryGetValue<string>(out var apiVersion) && apiVersion.Length > 0
                ? apiVersion : throw new ManifestException($"document {index} has no apiVersion"),
            document["kind"] is JsonValue k && k.TryGetValue<string>(out var kind) && kind.Length > 0
                ? kind : throw new ManifestException($"document {index} has no kind"));

    private async Task<AppliedObject> ServerSideApplyAsync(JsonObject document, ObjectRef target, ApiResource r, string name, CancellationToken ct)
    {
        var patch = new V1Patch(document, V1Patch.PatchType.ApplyPatch);
        var applied = target.Namespace is { } ns
            ? await client.CustomObjects.PatchNamespacedCustomObjectAsync(patch, r.Group, r.Version, ns, r.Plural, name,
                fieldManager: FieldManager, force: true, cancellationToken: ct)
            : await client.CustomObjects.PatchClusterCustomObjectAsync(patch, r.Group, r.Version, r.Plural, name,
                fieldManager: FieldManager, force: true, cancellationToken: ct);
        return new AppliedObject(target.ApiVersion, target.Kind, target.Namespace ?? "", name, "applied") { Uid = Metadata(ToElement(applied), "uid") };
    }

    /// <summary>
    /// Refuses to apply over an object of another repository, or one the service did not create; true when
    /// the object exists (and is this repository's).
    /// </summary>
    private async Task<bool> CheckOwnerAsync(JsonObject document, ObjectRef target, ApiResource r, string name, CancellationToken ct)
    {
        object existing;
        try
        {
            existing = target.Namespace is { } ns
                ? await client.CustomObjects.GetNamespacedCustomObjectAsync(r.Group, r.Version, ns, r.Plural, name, ct)
                : await client.CustomObjects.GetClusterCustomObjectAsync(r.Group, r.Version, r.Plural, name, ct);
        }
        catch (Exception e) when (KubernetesFailures.IsNotFound(e))
        {
            return false;
        }

        var repository = Annotation(document, ManifestAnnotator.RepositoryAnnotation);
        var owner = ToElement(existing).TryGetProperty("metadata", out var metadata)
            && metadata.TryGetProperty("annotations", out var annotations) && annotations.ValueKind == JsonValueKind.Object
            && annotations.TryGetProperty(ManifestAnnotator.RepositoryAnnotation, out var value) && value.ValueKind == JsonValueKind.String
                ? value.GetString() : null;
        var what = $"{target.Kind} {(target.Namespace is null ? "" : target.Namespace + "/")}{name}";
        if (owner is null)
        {
            throw new ManifestException($"{what} already exists and was not created by this service; refused (rename the object in the manifest, or delete the existing one)");
        }

        if (!string.Equals(owner, repository, StringComparison.OrdinalIgnoreCase))
        {
            throw new ManifestException($"{what} belongs to repository {owner}; refused for {repository} (named objects are owned by the repository that first applied them)");
        }

        return true;
    }

    private static string? Annotation(JsonObject document, string key) =>
        document["metadata"]?["annotations"]?[key] is JsonValue v && v.TryGetValue<string>(out var text) ? text : null;

    private async Task<AppliedObject> CreateOnceAsync(JsonObject document, ObjectRef target, ApiResource r, string delivery, int index, bool mayExist, CancellationToken ct)
    {
        if (mayExist)
        {
            // In pipeline mode each pipeline numbers its documents from 0: its label tells its objects from the others'.
            var selector = $"{ManifestAnnotator.DeliveryLabel}={ManifestAnnotator.LabelValue(delivery)}"
                + (Annotation(document, ManifestAnnotator.PipelineAnnotation) is { } pipeline ? $",{ManifestAnnotator.PipelineAnnotation}={pipeline}" : "");
            var existing = target.Namespace is { } ns
                ? await client.CustomObjects.ListNamespacedCustomObjectAsync(r.Group, r.Version, ns, r.Plural, labelSelector: selector, cancellationToken: ct)
                : await client.CustomObjects.ListClusterCustomObjectAsync(r.Group, r.Version, r.Plural, labelSelector: selector, cancellationToken: ct);
            if (FindDocument(existing, index) is { } found)
            {
                return new AppliedObject(target.ApiVersion, target.Kind, target.Namespace ?? "", found.Name, "existing") { Uid = found.Uid };
            }
        }

        var created = target.Namespace is { } createNs
            ? await client.CustomObjects.CreateNamespacedCustomObjectAsync(document, r.Group, r.Version, createNs, r.Plural,
                fieldManager: FieldManager, cancellationToken: ct)
            : await client.CustomObjects.CreateClusterCustomObjectAsync(document, r.Group, r.Version, r.Plural,
                fieldManager: FieldManager, cancellationToken: ct);
        var answer = ToElement(created);
        var name = Metadata(answer, "name") ?? target.GenerateName!;
        return new AppliedObject(target.ApiVersion, target.Kind, target.Namespace ?? "", name, "created") { Uid = Metadata(answer, "uid") };
    }

    private static (string Name, string? Uid)? FindDocument(object list, int index)
    {
        var wanted = index.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var root = ToElement(list);
        if (!root.TryGetProperty("items", out var items) || items.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        foreach (var item in items.EnumerateArray())
        {
            if (item.TryGetProperty("metadata", out var metadata)
                && metadata.TryGetProperty("annotations", out var annotations) && annotations.ValueKind == JsonValueKind.Object
                && annotations.TryGetProperty(ManifestAnnotator.DocumentAnnotation, out var doc) && doc.ValueKind == JsonValueKind.String
                && doc.GetString() == wanted && Metadata(item, "name") is { } name)
            {
                return (name, Metadata(item, "uid"));
            }
        }

        return null;
    }

    private static JsonElement ToElement(object value) => value switch
    {
        JsonElement element => element,
        _ => JsonSerializer.SerializeToElement(value),
    };

    private static string? Metadata(JsonElement obj, string field) =>
        obj.TryGetProperty("metadata", out var metadata) && metadata.TryGetProperty(field, out var value)
            && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>
    /// Sorts API failures into "try again later" and "this manifest will not go in" (<see cref="KubernetesFailures"/>).
    /// With the object it was about: a 403 says which Role rule is missing, and a 404 for the resource itself (a CRD
    /// removed or changed since discovery) forgets the cached discovery and tries again, so the next attempt sees
    /// what the cluster serves now.
    /// </summary>
    private async Task<T> Call<T>(Func<Task<T>> call, string what, CancellationToken ct, ApiAccess? access = null)
    {
        try
        {
            return await call();
        }
        catch (HttpOperationException e) when (access is not null && KubernetesFailures.IsForbidden(e))
        {
            throw new ManifestException($"{what}: the API server answered 403: {ApiRefusal.Forbidden(ApiRefusal.StatusMessage(e.Response.Content), access, options.Value.Namespace)}");
        }
        catch (HttpOperationException e) when (access is not null && KubernetesFailures.IsResourceNotServed(e))
        {
            discovery.Forget(access.Target.ApiVersion);
            throw new TransientException($"{KubernetesFailures.Answered(what, e)} (the API of {access.Target.Kind} is looked up again)", e);
        }
        catch (Exception e) when (KubernetesFailures.Classify(e, what, ct) is { } failure)
        {
            throw failure is PermanentException ? new ManifestException(failure.Message) : failure;
        }
    }
}
