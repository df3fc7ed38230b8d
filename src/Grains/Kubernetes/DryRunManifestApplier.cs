using System.Text.Json.Nodes;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Manifests;
using CiTrigger.Grains.Pipeline;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CiTrigger.Grains.Kubernetes;

/// <summary>
/// Applies nothing: checks the namespace policy (scope cannot be known without a cluster) and records
/// and logs what would have been applied.
/// </summary>
public sealed partial class DryRunManifestApplier(IOptions<ManifestOptions> options, ILogger<DryRunManifestApplier> logger) : IManifestApplier
{
    public Task<IReadOnlyList<AppliedObject>> ApplyAsync(IReadOnlyList<JsonObject> documents, string delivery, bool mayExist, CancellationToken cancellationToken)
    {
        var policy = new ManifestPolicy(options.Value);
        var targets = documents.Select((d, i) => policy.Check(d, i, namespaced: null)).ToList();
        var applied = new List<AppliedObject>(documents.Count);
        for (var i = 0; i < documents.Count; i++)
        {
            var t = targets[i];
            Log.WouldApply(logger, delivery, t.Kind, t.Namespace ?? "", t.Name ?? t.GenerateName ?? "", documents[i].ToJsonString());
            applied.Add(new AppliedObject(t.ApiVersion, t.Kind, t.Namespace ?? "", t.Name ?? t.GenerateName + "*", "dry-run"));
        }

        return Task.FromResult<IReadOnlyList<AppliedObject>>(applied);
    }

    private static partial class Log
    {
        [LoggerMessage(20, LogLevel.Information, "Dry run for {Delivery}: would apply {Kind} {Namespace}/{Name}: {Document}")]
        public static partial void WouldApply(ILogger logger, string delivery, string kind, string @namespace, string name, string document);
    }
}
