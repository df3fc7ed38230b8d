namespace CiTrigger.Grains.Pipeline;

/// <summary>Where manifests come from: a file of a forge's repository at a revision.</summary>
public interface IManifestSource
{
    /// <summary>
    /// The file's bytes. Throws <see cref="ManifestException"/> when the file does not exist, is too large, or
    /// its forge is not one this source reads (permanent), <see cref="TransientException"/> when trying again may help.
    /// </summary>
    Task<byte[]> GetAsync(ManifestFile file, CancellationToken cancellationToken);
}

/// <summary>
/// A manifest to read: the file at <paramref name="Path"/> in <paramref name="Repository"/> of <paramref name="Forge"/>
/// (<see cref="Abstractions.ForgeNames"/>) at <paramref name="Revision"/>. <paramref name="Installation"/> is the
/// GitHub App installation the event came from, if it said.
/// </summary>
public sealed record ManifestFile(string Forge, string Repository, string Path, string Revision, long? Installation);
