using System.Collections.Immutable;

namespace CiTrigger.Grains.Abstractions;

/// <summary>
/// One webhook delivery reduced to what the handler needs: where it happened (<see cref="Forge"/>, repository
/// and ref), what changed (revision and before), which delivery it was, and what it means to the ref
/// (<see cref="Meaning"/>, decided by the forge's reader). Values follow the annotation rules of
/// the design: <see cref="Revision"/> and <see cref="Before"/> are empty when the event has none.
/// <see cref="InstallationId"/> is the GitHub App installation that sent it (<c>installation.id</c>), if any.
/// <see cref="RerunOf"/> names the delivery this event runs again (a re-run from GitHub or the admin API), else "".
/// A pull request event's trust: <see cref="NeedsApproval"/> holds it when the payload shows it untrusted;
/// <see cref="RunsIfWriter"/> names the users (its <see cref="Sender"/>, the approval label's author) one of whom
/// must have write access, which GitHub is asked about when the event is processed; <see cref="ApprovalLabel"/>
/// says the pull request carries the approval label, which counts only if the ref knows a writer put it there.
/// Pipelines (see the design's "Pipelines"): <see cref="ChangedFiles"/> are the files a push changed when its payload
/// listed them all (null: ask the forge, or unknown); <see cref="Labels"/> a pull request's labels;
/// <see cref="Pipelines"/>, when set, the pipelines this event runs whatever their rules (a re-run of one check,
/// <c>/test NAME</c>, <c>/retest</c>), or, for <c>/cancel NAME</c>, the ones it stops; <see cref="CommentLine"/> the
/// first line of a trusted comment, which pipelines match with <c>on-comment</c>.
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
    [property: Id(12)] int PullRequest = 0,
    [property: Id(13)] string BaseRef = "",
    [property: Id(14)] string HeadRepoUrl = "",
    [property: Id(15)] bool? Merged = null,
    [property: Id(16)] string ManifestRevision = "",
    [property: Id(17)] string AuthorAssociation = "",
    [property: Id(18)] bool NeedsApproval = false,
    [property: Id(19)] string Command = "",
    [property: Id(20)] long? InstallationId = null,
    [property: Id(21)] string RerunOf = "",
    [property: Id(22)] string Sender = "",
    [property: Id(23)] ImmutableList<string>? RunsIfWriter = null,
    [property: Id(24)] bool ApprovalLabel = false,
    [property: Id(27)] ImmutableList<string>? ChangedFiles = null,
    [property: Id(28)] ImmutableList<string>? Labels = null,
    [property: Id(29)] ImmutableList<string>? Pipelines = null,
    [property: Id(30)] string? CommentLine = null)
{
    // Fields from Id(12) on came with pull requests; an event stored before them reads them as their
    // type's default (null strings), so they are read null-safely. Id(25) and Id(26) came with forges: an
    // event stored before them reads null there, which Forge and Meaning read as GitHub and as the meaning
    // the code of that time derived from the event's name.
    [Id(25)]
    private readonly string? forge;

    [Id(26)]
    private readonly EventMeaning? meaning;

    /// <summary>The forge the event came from (<see cref="ForgeNames"/>); GitHub for an event stored before events named one.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string Forge
    {
        get => forge ?? ForgeNames.GitHub;
        init => forge = value;
    }

    /// <summary>
    /// What the event does to its ref, as the forge's reader decided; for an event stored before readers decided
    /// it, <see cref="EventMeaning.OfStored"/>.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public EventMeaning Meaning
    {
        get => meaning ?? EventMeaning.OfStored(this);
        init => meaning = value;
    }

    /// <summary><see cref="Command"/> of a trusted <c>/ok-to-test</c> comment: release the waiting head.</summary>
    public const string ApproveCommand = "approve";

    /// <summary><see cref="Command"/> of a trusted <c>/retest</c> comment: run the pull request's newest event again.</summary>
    public const string RetestCommand = "retest";

    /// <summary>
    /// <see cref="Command"/> of a trusted <c>/test</c> comment: run the pull request's pipelines again, all of them, or
    /// with <c>/test NAME</c> only those in <see cref="Pipelines"/>, whatever their rules.
    /// </summary>
    public const string TestCommand = "test";

    /// <summary>
    /// <see cref="Command"/> of a trusted <c>/cancel</c> comment: stop the pull request's runs, all of them, or with
    /// <c>/cancel NAME</c> only those of the pipelines in <see cref="Pipelines"/>.
    /// </summary>
    public const string CancelCommand = "cancel";

    /// <summary>
    /// <see cref="Command"/> of any other trusted comment on a pull request: its first line is <see cref="CommentLine"/>,
    /// which runs the pipelines whose <c>on-comment</c> matches it.
    /// </summary>
    public const string CommentCommand = "comment";

    /// <summary>
    /// <see cref="Command"/> of the approval label being added by <see cref="Sender"/>: the ref remembers who put it
    /// there, and the waiting head runs if GitHub says that user has write access.
    /// </summary>
    public const string LabelCommand = "label";

    /// <summary><see cref="Command"/> of the approval label being removed: it approves no later head.</summary>
    public const string UnlabelCommand = "unlabel";

    /// <summary>True when the event may run only if one of <see cref="RunsIfWriter"/> has write access to the repository.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool AsksForWriter => RunsIfWriter is { Count: > 0 };

    /// <summary>True for a re-run (see <see cref="RerunOf"/>): the same event again, outside the ref's push chain.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsRerun => !string.IsNullOrEmpty(RerunOf);

    /// <summary>The key of the ref grain that serializes this event with its ref's other events.</summary>
    public string Key => RefKey.For(Forge, Repository, Ref);

    /// <summary>
    /// The git revision the manifest is read at: <see cref="ManifestRevision"/> when the reader chose one
    /// (the base commit of a pull request from a fork), else the event's revision, or the default branch
    /// when the event has none or removed its ref.
    /// </summary>
    public string ManifestRef => ManifestRevision is { Length: > 0 } pinned ? pinned : RefDeleted || Revision.Length == 0 ? DefaultBranch : Revision;

    /// <summary>
    /// The repository the manifest is read from: always the repository the webhook came from, which for a
    /// pull request is its base repository, never the head repository (possibly a fork).
    /// </summary>
    public string ManifestRepository => Repository;

    /// <summary>
    /// True for the events whose revisions form the ref's chain (<see cref="ChainEffect.Moves"/> and
    /// <see cref="ChainEffect.Ends"/>: pushes, and a pull request's events, whose <c>synchronize</c> names the
    /// head it moved from in <see cref="Before"/>, like a push); never a re-run.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool MovesChain => Meaning.Chain is ChainEffect.Moves or ChainEffect.Ends && !IsRerun;

    /// <summary>True for a chain event whose <see cref="Before"/> names a commit (not a newly created ref).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool ContinuesChain => MovesChain && Before.Length > 0 && !GitSha.IsZero(Before);

    /// <summary>True for an approval or re-test request: it changes the ref's queue and is never applied itself.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsCommand => !string.IsNullOrEmpty(Command);
}
