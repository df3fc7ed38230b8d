namespace CiTrigger.Grains.Pipeline;

/// <summary>Where manifests come from: a file of a repository at a revision.</summary>
public interface IManifestSource
{
    /// <summary>
    /// The file's bytes. Throws <see cref="ManifestException"/> when the file does not exist or is too
    /// large (permanent), <see cref="TransientException"/> when trying again may help.
    /// <paramref name="installation"/> is the GitHub App installation the event came from, if it said.
    /// </summary>
    Task<byte[]> GetAsync(string repository, string path, string gitRef, long? installation, CancellationToken cancellationToken);
}
