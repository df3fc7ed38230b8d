using System.Text.Json.Nodes;
using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Grains.Manifests;

/// <summary>Where manifests go: the cluster, or a record of what would have been applied.</summary>
public interface IManifestApplier
{
    /// <summary>
    /// Checks every document against policy, then applies them in order. Throws
    /// <see cref="ManifestException"/> for a refusal or a permanent error and
    /// <see cref="Processing.TransientException"/> when trying again may help; on a retry, documents
    /// already applied for the same delivery are found again, not created twice.
    /// </summary>
    Task<IReadOnlyList<AppliedObject>> ApplyAsync(IReadOnlyList<JsonObject> documents, string delivery, CancellationToken cancellationToken);
}
