using System.Text.Json;
using System.Text.RegularExpressions;
using CiTrigger.Grains.Manifests;

namespace CiTrigger.Grains.Kubernetes;

/// <summary>What the applier was doing when the API server refused: the verb, the resource, the object.</summary>
public sealed record ApiAccess(string Verb, ApiResource Resource, ObjectRef Target)
{
    public bool Named => Target.Name is not null;
}

/// <summary>Reads the API server's refusals and says what a user can do about them.</summary>
public static partial class ApiRefusal
{
    /// <summary>
    /// A 403 in words a user can act on: which verb on which resource in which namespace the service's
    /// account lacks, and the Role rule that would allow this kind of document. The verb and resource
    /// come from the server's message when it names them (applying a new object checks "create" after
    /// "patch"), else from what the applier sent. The rule grants <paramref name="verbs"/>, by default the
    /// applier's verbs for this kind of document.
    /// </summary>
    public static string Forbidden(string serverMessage, ApiAccess access, string homeNamespace, IEnumerable<string>? verbs = null)
    {
        var named = RbacDenial().Match(serverMessage);
        var verb = named.Success ? named.Groups["verb"].Value : access.Verb;
        var plural = named.Success ? named.Groups["resource"].Value : access.Resource.Plural;
        var granted = string.Join(", ", (verbs ?? KubernetesManifestApplier.VerbsFor(access.Named)).Order(StringComparer.Ordinal).Select(v => $"\"{v}\""));
        var rule = $"{{apiGroups: [\"{access.Resource.Group}\"], resources: [\"{access.Resource.Plural}\"], verbs: [{granted}]}}";
        var remedy = access.Target.Namespace switch
        {
            null => $"cluster-wide: grant it a ClusterRole with {rule}",
            var ns when ns == homeNamespace => $"in {ns}: extend the Role in k8s/ (rbac.yaml) with {rule}",
            var ns => $"in {ns}: grant it a Role in {ns} with {rule}, bound like the RoleBinding in k8s/ (rbac.yaml)",
        };
        return $"the service account may not {verb} {plural} {remedy} ({serverMessage})";
    }

    /// <summary>
    /// Whether a 404 says the resource itself is not served (a CRD removed or changed since discovery),
    /// rather than that a named object or the namespace does not exist: kube-apiserver answers a path no
    /// API serves with a plain-text "404 page not found", and a served group lacking the resource with a
    /// Status that names no object.
    /// </summary>
    public static bool IsResourceNotServed(string? body)
    {
        try
        {
            using var status = JsonDocument.Parse(body ?? "");
            var root = status.RootElement;
            return root.ValueKind != JsonValueKind.Object
                || !(root.TryGetProperty("details", out var details) && details.ValueKind == JsonValueKind.Object
                    && details.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String && name.GetString()!.Length > 0);
        }
        catch (JsonException)
        {
            return true;
        }
    }

    /// <summary>The message of a Status body, or the start of a body that is none.</summary>
    public static string StatusMessage(string? body)
    {
        try
        {
            using var status = JsonDocument.Parse(body ?? "");
            if (status.RootElement.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String)
            {
                return message.GetString()!;
            }
        }
        catch (JsonException)
        {
        }

        return body is { Length: > 300 } ? body[..300] : body ?? "";
    }

    // RBAC's wording, stable since 1.8: User "x" cannot patch resource "configmaps" in API group "" in the namespace "ci".
    [GeneratedRegex("cannot (?<verb>[a-z]+) resource \"(?<resource>[a-z0-9.-]+)\"")]
    private static partial Regex RbacDenial();
}
