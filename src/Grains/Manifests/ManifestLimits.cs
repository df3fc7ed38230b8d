namespace CiTrigger.Grains.Manifests;

/// <summary>Caps that keep an untrusted manifest from exhausting memory or CPU.</summary>
/// <param name="MaxBytes">Largest manifest file accepted.</param>
/// <param name="MaxDepth">Deepest nesting of mappings and sequences.</param>
/// <param name="MaxNodes">Most nodes across all documents, every alias expansion counted in full.</param>
/// <param name="MaxDocuments">Most documents in one file.</param>
public sealed record ManifestLimits(int MaxBytes, int MaxDepth, int MaxNodes, int MaxDocuments)
{
    public static ManifestLimits Default { get; } = new(1024 * 1024, 64, 200_000, 5_000);
}
