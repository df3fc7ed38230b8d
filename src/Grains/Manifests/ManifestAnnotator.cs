using System.Security.Cryptography;
using System.Text.Json.Nodes;
using System.Text;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Pipeline;

namespace CiTrigger.Grains.Manifests;

/// <summary>
/// Adds the event's annotations to a manifest document, merged into the document's own annotations
/// (ours win on our own keys, theirs are kept), and labels it with the delivery id so a created
/// object can be found again after a crash, and with its ref so a ref's run objects can be listed (<c>keepRuns</c>).
/// </summary>
public static class ManifestAnnotator
{
    public const string Prefix = "k8s-webhook-handler.io/";
    public const string DeliveryLabel = Prefix + "delivery";

    /// <summary>The delivery id as it is (the label holds a hash of ids that are not valid label values).</summary>
    public const string DeliveryAnnotation = Prefix + "delivery";
    public const string DocumentAnnotation = Prefix + "document";

    /// <summary>
    /// A hash of the ref an object was applied for (<see cref="RefLabelValue"/>), so a ref's run objects are listed by one
    /// label selector. Only a hash: whose object it is is read from the <c>repo_name</c> and <c>ref</c> annotations.
    /// </summary>
    public const string RefLabel = Prefix + "ref-hash";

    /// <summary>The pipeline an object belongs to (pipeline mode), as annotation and label.</summary>
    public const string PipelineAnnotation = Prefix + "pipeline";

    /// <summary>The repository an object was applied for: who owns a named object.</summary>
    public const string RepositoryAnnotation = Prefix + "repo_name";

    /// <summary>
    /// The forge of an event of any forge but GitHub (whose events never carry it, as before there were forges):
    /// a run object names its ref by this, <see cref="RepositoryAnnotation"/> and <c>ref</c>.
    /// </summary>
    public const string ForgeAnnotation = Prefix + "forge";

    /// <summary>
    /// The name of the Secret holding the event's per-run Git credential (App mode with <c>Handler:RunCredentials</c>),
    /// also its <c>{{ git_auth_secret }}</c> parameter; absent when the event has none.
    /// </summary>
    public const string GitAuthSecretAnnotation = Prefix + "git-auth-secret";

    /// <summary>
    /// The annotations the design promises, in a stable order; a pull request's events have four more, and an
    /// event of another forge than GitHub names it last.
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, string>> AnnotationsFor(HookEvent e) =>
        [.. Common(e), .. PullRequestAnnotations(e), .. ForgeAnnotations(e)];

    private static IReadOnlyList<KeyValuePair<string, string>> ForgeAnnotations(HookEvent e) =>
        e.Forge == ForgeNames.GitHub ? [] : [new(ForgeAnnotation, e.Forge)];

    private static IReadOnlyList<KeyValuePair<string, string>> PullRequestAnnotations(HookEvent e) => e.PullRequest <= 0 ? [] :
    [
        new(Prefix + "pull_request", e.PullRequest.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new(Prefix + "base_ref", e.BaseRef ?? ""),
        new(Prefix + "head_repo_url", e.HeadRepoUrl ?? ""),
        new(Prefix + "merged", e.Merged switch { true => "true", false => "false", null => "" }),
    ];

    private static IReadOnlyList<KeyValuePair<string, string>> Common(HookEvent e) =>
    [
        new(Prefix + "ref", e.Ref),
        new(Prefix + "revision", e.Revision),
        new(Prefix + "before", e.Before),
        new(RepositoryAnnotation, e.Repository),
        new(Prefix + "repo_url", e.RepoUrl),
        new(Prefix + "repo_ssh", e.RepoSsh),
        new(Prefix + "event_type", e.EventType),
        new(Prefix + "event_action", e.Action),
        new(DeliveryAnnotation, e.Delivery),
    ];

    /// <summary>
    /// Returns an annotated copy of <paramref name="document"/>, its <c>{{ name }}</c> parameters replaced by
    /// <paramref name="parameters"/> first (<see cref="ManifestParameters"/>; so no annotation value is taken for
    /// one); the input is not changed. <paramref name="gitAuthSecret"/>, the name of the event's per-run credential
    /// Secret, becomes the <see cref="GitAuthSecretAnnotation"/>.
    /// </summary>
    public static JsonObject Annotate(
        JsonObject document, HookEvent e, int documentIndex, IReadOnlyDictionary<string, string>? parameters = null, string? pipeline = null, string? gitAuthSecret = null)
    {
        var copy = (JsonObject)document.DeepClone();
        if (parameters is not null)
        {
            ManifestParameters.Substitute(copy, parameters);
        }

        var metadata = Child(copy, "metadata", "metadata");
        var annotations = Child(metadata, "annotations", "metadata.annotations");
        foreach (var (key, value) in AnnotationsFor(e))
        {
            annotations[key] = value;
        }

        annotations[DocumentAnnotation] = documentIndex.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (gitAuthSecret is not null)
        {
            annotations[GitAuthSecretAnnotation] = gitAuthSecret;
        }

        var labels = Child(metadata, "labels", "metadata.labels");
        labels[DeliveryLabel] = LabelValue(e.Delivery);
        labels[RefLabel] = RefLabelValue(e.Key);
        if (pipeline is not null)
        {
            // A pipeline name is a valid label value (PipelineNames), so the label finds a pipeline's objects.
            annotations[PipelineAnnotation] = pipeline;
            labels[PipelineAnnotation] = pipeline;
        }

        return copy;
    }

    /// <summary>
    /// A valid label value for a delivery id (63 characters of [A-Za-z0-9-_.], alphanumeric at both ends).
    /// GitHub's GUIDs pass unchanged; anything else is replaced by a stable hash of itself.
    /// </summary>
    public static string LabelValue(string delivery) =>
        Names.IsDeliveryId(delivery)
            ? delivery
            : "h-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(delivery)))[..40];

    /// <summary>
    /// The <see cref="RefLabel"/> value of a ref key (<see cref="RefKey.For"/>): 32 hex digits of its SHA-256, a valid label
    /// value whatever the repository and ref are. Two refs may share one only by a collision, which readers rule out by the annotations.
    /// </summary>
    public static string RefLabelValue(string refKey) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(refKey)))[..32];

    private static JsonObject Child(JsonObject parent, string name, string path)
    {
        switch (parent[name])
        {
            case JsonObject existing:
                return existing;
            case null:
                var created = new JsonObject();
                parent[name] = created;
                return created;
            default:
                throw new ManifestException($"{path} must be a mapping");
        }
    }
}
