using System.Text.Json.Nodes;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Kubernetes;
using CiTrigger.Grains.Pipeline;

namespace CiTrigger.Grains.Manifests;

/// <summary>
/// What a manifest may do: objects go into the handler's namespace (or an explicitly allowed one),
/// cluster-scoped kinds are refused unless configuration allows them, and a run kind (see
/// <see cref="RunKinds"/>) must be created by generateName, so every event's run is new. Checked for every document
/// before the first one is applied, so a refused manifest changes nothing.
/// </summary>
public sealed class ManifestPolicy(ManifestOptions options, IRepositorySettings? repositories = null)
{
    /// <summary>The document's identity; throws <see cref="ManifestException"/> for a refusal.</summary>
    public ObjectRef Check(JsonObject document, int index, bool? namespaced)
    {
        var apiVersion = document["apiVersion"] is JsonValue v && v.TryGetValue<string>(out var av) && av.Length > 0
            ? av : throw Refuse(index, "has no apiVersion");
        var kind = document["kind"] is JsonValue k && k.TryGetValue<string>(out var kd) && kd.Length > 0
            ? kd : throw Refuse(index, "has no kind");
        var metadata = document["metadata"] as JsonObject ?? throw Refuse(index, "has no metadata");
        var name = Text(metadata, "name", index);
        var generateName = Text(metadata, "generateName", index);
        if (name is null && generateName is null)
        {
            throw Refuse(index, $"({kind}) needs metadata.name or metadata.generateName");
        }

        if (name is not null && RunKinds.Find(apiVersion, kind) is not null)
        {
            // An existing run object is not started again by an apply (Argo does not restart a finished
            // Workflow, a Job's template is immutable): its old status would become this event's result.
            throw Refuse(index, $"({kind} {name}) is a run with a fixed metadata.name: every event must start a new run, so give it metadata.generateName (for example '{name}-') instead");
        }

        if (namespaced == false)
        {
            if (!options.AllowClusterScoped)
            {
                throw Refuse(index, $"is a cluster-scoped {kind}; refused (set Handler:AllowClusterScoped to allow)");
            }

            return new ObjectRef(apiVersion, kind, null, name, generateName);
        }

        // A repository whose Repository names a namespace is confined to it: one team's manifests cannot reach another's.
        var confined = ConfinedBy(metadata);
        var ns = Text(metadata, "namespace", index) ?? confined?.Namespace ?? options.Namespace;
        if (confined is { Namespace: { } only } && ns != only)
        {
            throw Refuse(index, $"({kind}) names namespace '{ns}'; only '{only}' allowed (spec.namespace of the Repository {confined.Resource})");
        }

        if (!options.NamespaceSet.Contains(ns))
        {
            throw Refuse(index, $"({kind}) names namespace '{ns}'; only '{string.Join("', '", options.NamespaceSet)}' allowed (Handler:Namespace, Handler:AllowedNamespaces)");
        }

        metadata["namespace"] = ns;
        return new ObjectRef(apiVersion, kind, ns, name, generateName);
    }

    /// <summary>The Repository of the document's repository (its annotations, added before policy looks) when it names a namespace.</summary>
    private RepositorySettings? ConfinedBy(JsonObject metadata)
    {
        if (repositories is null || metadata["annotations"] is not JsonObject annotations
            || annotations[ManifestAnnotator.RepositoryAnnotation] is not JsonValue name || !name.TryGetValue<string>(out var repository))
        {
            return null;
        }

        var forge = annotations[ManifestAnnotator.ForgeAnnotation] is JsonValue f && f.TryGetValue<string>(out var other) ? other : ForgeNames.GitHub;
        return repositories.Find(RefKey.Repository(forge, repository)) is { Namespace: not null } settings ? settings : null;
    }

    private static string? Text(JsonObject metadata, string field, int index) => metadata[field] switch
    {
        null => null,
        JsonValue value when value.TryGetValue<string>(out var text) && text.Length > 0 => text,
        _ => throw Refuse(index, $"has a metadata.{field} that is not a non-empty string"),
    };

    private static ManifestException Refuse(int index, string what) => new($"document {index} {what}");
}

/// <summary>A manifest document's identity as policy saw it.</summary>
public sealed record ObjectRef(string ApiVersion, string Kind, string? Namespace, string? Name, string? GenerateName);
