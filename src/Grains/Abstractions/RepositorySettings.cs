using System.Collections.Immutable;

namespace CiTrigger.Grains.Abstractions;

/// <summary>
/// What a <c>Repository</c> resource (<c>k8s-webhook-handler.io/v1alpha1</c>) says about one repository, once the
/// service found its spec usable. A null value means "the global option" (<c>Handler:*</c>).
/// </summary>
/// <param name="Repository">The repository as keys name it (<see cref="RefKey.Repository(string, string)"/>): lower-cased <c>owner/name</c>.</param>
/// <param name="Resource">The object that says it: <c>namespace/name</c>.</param>
/// <param name="Namespace">Where its runs go, the only namespace its manifests may name.</param>
/// <param name="PipelineDirectory">Its pipeline directory (pipeline mode).</param>
/// <param name="TrustedAssociations">The <c>author_association</c> values trusted on its pull requests (upper case).</param>
/// <param name="CancelSuperseded">Whether a newer event of a ref stops the runs of its older ones.</param>
/// <param name="ConcurrencyLimit">At most this many of its runs at once, across its refs and the silos.</param>
/// <param name="Params">Extra <c>{{ name }}</c> values of its manifests (never one of the fixed names).</param>
/// <param name="KeepRuns">Finished run objects kept per ref and pipeline; older finished ones are deleted.</param>
[GenerateSerializer, Immutable]
public sealed record RepositorySettings(
    [property: Id(0)] string Repository,
    [property: Id(1)] string Resource,
    [property: Id(2)] string? Namespace = null,
    [property: Id(3)] string? PipelineDirectory = null,
    [property: Id(4)] ImmutableArray<string>? TrustedAssociations = null,
    [property: Id(5)] bool? CancelSuperseded = null,
    [property: Id(6)] int? ConcurrencyLimit = null,
    [property: Id(7)] ImmutableSortedDictionary<string, string>? Params = null,
    [property: Id(8)] int? KeepRuns = null);

/// <summary>
/// One <c>Repository</c> object as the service last saw it: its settings when usable, otherwise why not (what its
/// <c>status.conditions</c> type <c>Ready</c> says).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record RepositoryResource(
    [property: Id(0)] string Resource,
    [property: Id(1)] string Repository,
    [property: Id(2)] bool Ready,
    [property: Id(3)] string Reason,
    [property: Id(4)] string Message,
    [property: Id(5)] RepositorySettings? Settings);

/// <summary>
/// The repositories that have a <c>Repository</c> resource, as the silo's list and watch of those objects
/// currently knows them. Read on every event, so lookups are in memory.
/// </summary>
public interface IRepositorySettings
{
    /// <summary>
    /// Whether the objects were listed at least once: before that nobody can say whether a repository has one, so
    /// <c>Handler:RequireRepository</c> answers 503 and events wait.
    /// </summary>
    bool Synced { get; }

    /// <summary>The usable settings of a repository (as keys name it), or null when it has no usable Repository.</summary>
    RepositorySettings? Find(string repository);

    /// <summary>Every object seen, usable or not, by resource name.</summary>
    IReadOnlyList<RepositoryResource> All { get; }
}

/// <summary>No Repository resources (no cluster, or dry-run): every repository uses the global options.</summary>
public sealed class NoRepositorySettings : IRepositorySettings
{
    public static readonly NoRepositorySettings Instance = new();

    public bool Synced => true;

    public IReadOnlyList<RepositoryResource> All => [];

    public RepositorySettings? Find(string repository) => null;
}
