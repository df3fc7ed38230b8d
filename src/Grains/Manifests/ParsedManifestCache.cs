using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace CiTrigger.Grains.Manifests;

/// <summary>
/// Parsed manifests by the hash of their bytes. Most commits do not touch <c>.ci/workflow.yaml</c>, so
/// consecutive events of a repository usually bring the same file; it is parsed once. Callers must not
/// change the documents (annotation works on a copy). Bounded: when full, it starts over.
/// </summary>
public sealed class ParsedManifestCache(int capacity = 256)
{
    private readonly ConcurrentDictionary<string, IReadOnlyList<JsonObject>> entries = new(StringComparer.Ordinal);

    public int Count => entries.Count;

    public IReadOnlyList<JsonObject> Read(byte[] manifest, ManifestLimits limits)
    {
        // The limits are part of the key: a file accepted under generous limits is not accepted under tighter ones.
        var key = $"{Convert.ToHexString(SHA256.HashData(manifest))}/{limits.MaxBytes}/{limits.MaxDepth}/{limits.MaxNodes}/{limits.MaxDocuments}";
        if (entries.TryGetValue(key, out var cached))
        {
            return cached;
        }

        var documents = ManifestReader.Read(manifest, limits);
        if (entries.Count >= capacity)
        {
            entries.Clear();
        }

        entries[key] = documents;
        return documents;
    }
}
