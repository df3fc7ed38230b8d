using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Manifests;
using CiTrigger.Grains.Pipeline;
using Microsoft.Extensions.Options;

namespace CiTrigger.Grains.Processing;

/// <summary>
/// The work of one attempt at one event: read the manifest at the event's revision, parse it under the
/// limits, annotate every document and apply them in file order.
/// </summary>
public sealed class EventProcessor(IManifestSource source, IManifestApplier applier, ParsedManifestCache parsed, IOptions<ManifestOptions> options)
{
    /// <param name="e">The event.</param>
    /// <param name="mayHaveRun">Whether an earlier attempt at this event may have applied part of it.</param>
    /// <param name="cancellationToken">The attempt's deadline.</param>
    public async Task<IReadOnlyList<AppliedObject>> ProcessAsync(HookEvent e, bool mayHaveRun, CancellationToken cancellationToken)
    {
        var manifest = options.Value;
        var bytes = await source.GetAsync(e.Repository, manifest.ManifestPath, e.ManifestRef, cancellationToken);
        var documents = parsed.Read(bytes, manifest.Limits);
        if (documents.Count == 0)
        {
            throw new ManifestException($"{manifest.ManifestPath} at {e.ManifestRef} holds no documents");
        }

        var annotated = documents.Select((d, i) => ManifestAnnotator.Annotate(d, e, i)).ToList();
        return await applier.ApplyAsync(annotated, e.Delivery, mayHaveRun, cancellationToken);
    }
}
