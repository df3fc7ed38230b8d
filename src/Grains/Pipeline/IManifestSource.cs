namespace CiTrigger.Grains.Pipeline;

/// <summary>Where manifests come from: a file of a forge's repository at a revision, or a directory's pipeline files.</summary>
public interface IManifestSource
{
    /// <summary>
    /// The file's bytes. Throws <see cref="ManifestException"/> when the file does not exist, is too large, or
    /// its forge is not one this source reads (permanent), <see cref="TransientException"/> when trying again may help.
    /// </summary>
    Task<byte[]> GetAsync(ManifestFile file, CancellationToken cancellationToken);

    /// <summary>
    /// The files directly in the directory <see cref="ManifestFile.Path"/> at the revision, with their blob ids
    /// (every file, whatever its name; the caller picks the pipelines); null when the directory does not exist
    /// there. Throws like <see cref="GetAsync"/>.
    /// </summary>
    Task<IReadOnlyList<PipelineFile>?> ListAsync(ManifestFile directory, CancellationToken cancellationToken);

    /// <summary>
    /// The bytes of the blob <paramref name="blobSha"/> of the repository <paramref name="file"/> names (its
    /// <see cref="ManifestFile.Path"/> only for messages). Throws like <see cref="GetAsync"/>.
    /// </summary>
    Task<byte[]> GetBlobAsync(ManifestFile file, string blobSha, CancellationToken cancellationToken);
}

/// <summary>
/// A manifest to read: the file at <paramref name="Path"/> in <paramref name="Repository"/> of <paramref name="Forge"/>
/// (<see cref="Abstractions.ForgeNames"/>) at <paramref name="Revision"/>. <paramref name="Installation"/> is the
/// GitHub App installation the event came from, if it said.
/// </summary>
public sealed record ManifestFile(string Forge, string Repository, string Path, string Revision, long? Installation);

/// <summary>
/// A file of a listed directory: its <paramref name="Name"/> (with extension), its <paramref name="Path"/> in the
/// repository, the git blob id of its content and its size in bytes.
/// </summary>
public sealed record PipelineFile(string Name, string Path, string BlobSha, long Size);

/// <summary>
/// The files an event changed, asked of the forge when the event did not say. Every method answers null when
/// the set cannot be known completely (too many files for the API, a failure after its retries): a pipeline is
/// then never skipped on a guess.
/// </summary>
public interface IChangedFiles
{
    /// <summary>The files changed between two commits (GitHub: the compare API).</summary>
    Task<IReadOnlyList<string>?> BetweenAsync(string forge, string repository, long? installation, string before, string after, CancellationToken cancellationToken);

    /// <summary>The files a pull request changes (GitHub: its files API, paged, at most 3,000).</summary>
    Task<IReadOnlyList<string>?> OfPullRequestAsync(string forge, string repository, long? installation, int number, CancellationToken cancellationToken);
}

/// <summary>Used where no forge can be asked (local manifests): every set is unknown.</summary>
public sealed class UnknownChangedFiles : IChangedFiles
{
    public Task<IReadOnlyList<string>?> BetweenAsync(string forge, string repository, long? installation, string before, string after, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<string>?>(null);

    public Task<IReadOnlyList<string>?> OfPullRequestAsync(string forge, string repository, long? installation, int number, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<string>?>(null);
}
