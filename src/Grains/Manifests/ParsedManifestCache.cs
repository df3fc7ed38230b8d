using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using CiTrigger.Grains.Pipeline;

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

    private readonly ConcurrentDictionary<string, (ParsedPipeline? Pipeline, string? Error)> pipelines = new(StringComparer.Ordinal);

    // Blobs being read now, by key: events that need the same new blob at once wait for one read of it.
    private readonly ConcurrentDictionary<string, Task<(ParsedPipeline? Pipeline, string? Error)>> reading = new(StringComparer.Ordinal);

    /// <summary>
    /// A pipeline file by its blob id: fetched with <paramref name="fetch"/> and parsed only the first time, since
    /// a blob id names one content, and read once however many events ask for it at the same moment. What a file
    /// fails with is remembered too (the same bytes fail the same way), so an unchanged bad pipeline costs neither
    /// a request nor a parse; a fetch that fails is not remembered, and the next event asks again.
    /// </summary>
    public async Task<ParsedPipeline> ReadPipelineAsync(string blobSha, ManifestLimits limits, Func<CancellationToken, Task<byte[]>> fetch, CancellationToken cancellationToken)
    {
        var key = $"{blobSha}/{limits.MaxBytes}/{limits.MaxDepth}/{limits.MaxNodes}/{limits.MaxDocuments}";
        if (!pipelines.TryGetValue(key, out var entry))
        {
            // The shared read is not cancelled by one event's deadline (the client's own timeout bounds it); each
            // event stops waiting at its own.
            var read = reading.GetOrAdd(key, _ => ReadAsync(key, limits, fetch));
            try
            {
                entry = await read.WaitAsync(cancellationToken);
            }
            finally
            {
                if (read.IsCompleted)
                {
                    reading.TryRemove(KeyValuePair.Create(key, read));
                }
            }
        }

        return entry.Pipeline ?? throw new ManifestException(entry.Error!);
    }

    private async Task<(ParsedPipeline? Pipeline, string? Error)> ReadAsync(string key, ManifestLimits limits, Func<CancellationToken, Task<byte[]>> fetch)
    {
        var bytes = await fetch(CancellationToken.None);
        (ParsedPipeline? Pipeline, string? Error) entry;
        try
        {
            var documents = ManifestReader.Read(bytes, limits);
            entry = documents.Count == 0
                ? (null, "holds no documents")
                : (new ParsedPipeline(documents, ManifestParameters.MayMention(bytes), PipelineRules.Parse(documents[0])), null);
        }
        catch (ManifestException refused)
        {
            entry = (null, refused.Message);
        }

        if (pipelines.Count >= capacity)
        {
            pipelines.Clear();
        }

        pipelines[key] = entry;
        return entry;
    }

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

/// <summary>
/// A pipeline file as parsed: its documents, whether its bytes may hold a <c>{{ name }}</c> parameter, and the
/// rules of its first document.
/// </summary>
public sealed record ParsedPipeline(IReadOnlyList<JsonObject> Documents, bool MayMention, PipelineRules Rules);
