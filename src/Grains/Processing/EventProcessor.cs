using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Manifests;
using Microsoft.Extensions.Options;

namespace CiTrigger.Grains.Processing;

/// <summary>
/// One attempt at one event: read the manifest at the event's revision, parse it under the limits,
/// annotate every document and apply them in file order.
/// </summary>
public sealed class EventProcessor(IManifestSource source, IManifestApplier applier, ParsedManifestCache parsed, IOptions<HandlerOptions> options)
{
    /// <param name="e">The event.</param>
    /// <param name="mayHaveRun">Whether an earlier attempt at this event may have applied part of it.</param>
    /// <param name="cancellationToken">The attempt's deadline.</param>
    public async Task<IReadOnlyList<AppliedObject>> ProcessAsync(HookEvent e, bool mayHaveRun, CancellationToken cancellationToken)
    {
        var handler = options.Value;
        var bytes = await source.GetAsync(e.Repository, handler.ManifestPath, e.ManifestRef, e.InstallationId, cancellationToken);
        var documents = parsed.Read(bytes, handler.Limits);
        if (documents.Count == 0)
        {
            throw new ManifestException($"{handler.ManifestPath} at {e.ManifestRef} holds no documents");
        }

        var annotated = documents.Select((d, i) => ManifestAnnotator.Annotate(d, e, i)).ToList();
        return await applier.ApplyAsync(annotated, e.Delivery, mayHaveRun, cancellationToken);
    }

    /// <summary>
    /// Whether a failure is worth another attempt. Only a manifest's own problems are final; anything
    /// else, including failures nobody classified, is retried (bounded by Handler:MaxAttempts) rather
    /// than dropped.
    /// </summary>
    public static bool IsTransient(Exception e) => e is not ManifestException;
}
