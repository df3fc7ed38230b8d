using System.Text.Json.Nodes;

namespace CiTrigger.Tests.Fakes;

/// <summary>
/// Repository resources, as installing k8s/repository-crd.yaml would serve them (<see cref="ServeRepositories"/>):
/// what a platform team does with kubectl (<see cref="PutRepository"/>, <see cref="DeleteRepository"/>) and the
/// status subresource the service writes, which like the real server's changes only <c>status</c> and leaves
/// <c>metadata.generation</c> alone (a spec change raises it).
/// </summary>
public sealed partial class FakeKubernetesApi
{
    private static readonly Resource RepositoryResource = new("k8s-webhook-handler.io", "v1alpha1", "repositories", "Repository", true);

    /// <summary>Serves Repository objects, as installing their CRD would.</summary>
    public void ServeRepositories() => resources = [.. resources.Where(r => r != RepositoryResource), RepositoryResource];

    /// <summary>Creates or changes (a new spec, a new generation) the Repository <paramref name="name"/> in <paramref name="ns"/>.</summary>
    public void PutRepository(string name, JsonObject spec, string ns = "ci")
    {
        gate.Wait();
        try
        {
            var key = Key(RepositoryResource, ns, name);
            if (objects.TryGetValue(key, out var live))
            {
                var updated = (JsonObject)live.DeepClone();
                updated["spec"] = spec.DeepClone();
                var metadata = updated["metadata"]!.AsObject();
                metadata["generation"] = metadata["generation"]!.GetValue<long>() + 1;
                Stamp(metadata, ns);
                objects[key] = updated;
                Publish("MODIFIED", RepositoryResource, ns, updated);
                return;
            }

            var created = new JsonObject
            {
                ["apiVersion"] = RepositoryResource.ApiVersion,
                ["kind"] = RepositoryResource.Kind,
                ["metadata"] = new JsonObject { ["name"] = name, ["generation"] = 1L },
                ["spec"] = spec.DeepClone(),
            };
            Stamp(created["metadata"]!.AsObject(), ns);
            objects[key] = created;
            Publish("ADDED", RepositoryResource, ns, created);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Deletes the Repository <paramref name="name"/>, as <c>kubectl delete</c> would.</summary>
    public void DeleteRepository(string name, string ns = "ci")
    {
        gate.Wait();
        try
        {
            if (objects.TryRemove(Key(RepositoryResource, ns, name), out var gone))
            {
                var deleted = (JsonObject)gone.DeepClone();
                deleted["metadata"]!["resourceVersion"] = NextVersion();
                Publish("DELETED", RepositoryResource, ns, deleted);
            }
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>The Repository as stored now, or null.</summary>
    public JsonObject? Repository(string name, string ns = "ci") =>
        objects.TryGetValue(Key(RepositoryResource, ns, name), out var found) ? (JsonObject)found.DeepClone() : null;

    /// <summary>A merge patch of the status subresource: only <c>status</c> changes; anything else in the patch is ignored.</summary>
    private (int, JsonNode) PatchStatus(Resource resource, string ns, string name, RecordedRequest r)
    {
        if (MediaType(r) != "application/merge-patch+json")
        {
            return Failure(415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml");
        }

        JsonObject patch;
        try
        {
            patch = JsonNode.Parse(r.Body) as JsonObject ?? throw new System.Text.Json.JsonException("not an object");
        }
        catch (System.Text.Json.JsonException e)
        {
            return Failure(400, "BadRequest", $"error decoding patch: {e.Message}");
        }

        gate.Wait();
        try
        {
            var key = Key(resource, ns, name);
            if (!objects.TryGetValue(key, out var live))
            {
                return Failure(404, "NotFound", $"{resource.Qualified()} \"{name}\" not found", Details(name, resource.Group, resource.Plural));
            }

            var updated = (JsonObject)live.DeepClone();
            var status = Merge(live["status"]?.DeepClone() ?? new JsonObject(), patch["status"] ?? new JsonObject());
            updated["status"] = status;
            return StoreChanged(resource, ns, key, live, updated);
        }
        finally
        {
            gate.Release();
        }
    }
}
