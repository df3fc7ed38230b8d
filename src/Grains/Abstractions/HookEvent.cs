namespace CiTrigger.Grains.Abstractions;

/// <summary>
/// One GitHub delivery reduced to what the handler needs: where it happened (repository and ref),
/// what changed (revision and before) and which delivery it was. Values follow the annotation rules of
/// the design: <see cref="Revision"/> and <see cref="Before"/> are empty when the event has none.
/// <see cref="InstallationId"/> is the GitHub App installation that sent it (<c>installation.id</c>), if any.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record HookEvent(
    [property: Id(0)] string Delivery,
    [property: Id(1)] string EventType,
    [property: Id(2)] string Action,
    [property: Id(3)] string Repository,
    [property: Id(4)] string RepoUrl,
    [property: Id(5)] string RepoSsh,
    [property: Id(6)] string Ref,
    [property: Id(7)] string Revision,
    [property: Id(8)] string Before,
    [property: Id(9)] string DefaultBranch,
    [property: Id(10)] bool RefDeleted,
    [property: Id(11)] DateTimeOffset ReceivedAt,
    [property: Id(12)] long? InstallationId = null)
{
    /// <summary>The key of the ref grain that serializes this event with its ref's other events.</summary>
    public string Key => RefKey.For(Repository, Ref);

    /// <summary>
    /// The git revision the manifest is read at: the event's revision, or the default branch when the
    /// event has none or removed its ref.
    /// </summary>
    public string ManifestRef => RefDeleted || Revision.Length == 0 ? DefaultBranch : Revision;

    /// <summary>True for a push whose <see cref="Before"/> names a commit (not a newly created ref).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool ContinuesChain => EventType == "push" && Before.Length > 0 && !GitSha.IsZero(Before);
}
