using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Grains.Pipeline;

/// <summary>
/// What one prune covers: the run objects of the ref <see cref="Key"/> (as <see cref="RefKey.For"/> builds it) and of
/// <see cref="Pipeline"/> (null: objects of no pipeline, as single-file mode applies them) in <see cref="Namespaces"/>.
/// The newest <see cref="Keep"/> finished ones stay; <see cref="Followed"/> are the objects the ref still follows as
/// running, never touched whatever the cluster already says of them (their result is still to reach the ref).
/// </summary>
public sealed record RunPrune(string Key, string? Pipeline, IReadOnlyCollection<string> Namespaces, int Keep, IReadOnlyCollection<RunObjectRecord> Followed);

/// <summary>
/// The cluster side of <c>keepRuns</c> (<see cref="RepositorySettings.KeepRuns"/>): deleting a ref's finished run objects
/// beyond the newest ones, per pipeline.
/// </summary>
public interface IRunPruner
{
    /// <summary>
    /// Deletes the finished run objects <paramref name="prune"/> covers beyond its newest <see cref="RunPrune.Keep"/>
    /// (newest by <c>creationTimestamp</c>, then name), each only as it was listed (an object changed since is left for
    /// the next prune). Never an object whose status says it is running, nor one whose annotations name another
    /// repository, ref or pipeline. A deletion goes on in the background (<c>propagationPolicy=Background</c>, so a
    /// Job's pods go too); an object already gone is not an error. Returns the objects deleted. Throws
    /// <see cref="TransientException"/> or <see cref="PermanentException"/> when the objects could not be listed, or
    /// some could not be deleted (after trying the others).
    /// </summary>
    Task<IReadOnlyList<RunObjectRecord>> PruneAsync(RunPrune prune, CancellationToken cancellationToken);
}

/// <summary>Used without a cluster (dry-run): nothing is deleted.</summary>
public sealed class NoRunPruner : IRunPruner
{
    public static readonly NoRunPruner Instance = new();

    public Task<IReadOnlyList<RunObjectRecord>> PruneAsync(RunPrune prune, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<RunObjectRecord>>([]);
}
