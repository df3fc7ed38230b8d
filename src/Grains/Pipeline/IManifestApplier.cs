using System.Text.Json.Nodes;
using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Grains.Pipeline;

/// <summary>Where manifests go: the cluster, or a record of what would have been applied.</summary>
public interface IManifestApplier
{
    /// <summary>
    /// Checks every document against policy, then applies them in order. Throws
    /// <see cref="ManifestException"/> for a refusal or a permanent error and
    /// <see cref="TransientException"/> when trying again may help.
    /// </summary>
    /// <param name="documents">The annotated documents, in file order.</param>
    /// <param name="delivery">The delivery they belong to (their label).</param>
    /// <param name="mayExist">
    /// Whether an earlier attempt (a retry, or work recovered after a crash) may already have created some
    /// of them: then each is looked for by its delivery label before it is created, never created twice.
    /// </param>
    /// <param name="cancellationToken">The attempt's deadline.</param>
    Task<IReadOnlyList<AppliedObject>> ApplyAsync(IReadOnlyList<JsonObject> documents, string delivery, bool mayExist, CancellationToken cancellationToken);
}
