using System.Globalization;
using System.Text.Json;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Manifests;
using CiTrigger.Grains.Pipeline;

namespace CiTrigger.Grains.Kubernetes;

/// <summary>
/// A run object as a prune lists it: whose it is and where it stands (<see cref="RunClassification.State"/>), its pipeline
/// (pipeline mode), when it was created, and the uid and resourceVersion a deletion names as its preconditions.
/// </summary>
public sealed record PruneCandidate(RunObjectState State, string? Pipeline, DateTimeOffset? Created, string? Uid, string? ResourceVersion);

/// <summary>
/// The rules of <c>keepRuns</c>, without a cluster: which of a ref's run objects a prune lists (by the ref's label, and
/// its pipeline's) and which of them it deletes. The labels only narrow the list; whose an object is, is read from its
/// annotations, so another repository's or ref's object is never deleted, even should its label hash collide.
/// </summary>
public static class RunPruning
{
    /// <summary>The label selector of the objects of <paramref name="key"/>'s ref and <paramref name="pipeline"/> (none: objects of no pipeline).</summary>
    public static string Selector(string key, string? pipeline) =>
        $"{ManifestAnnotator.RefLabel}={ManifestAnnotator.RefLabelValue(key)},"
        + (pipeline is null ? $"!{ManifestAnnotator.PipelineAnnotation}" : $"{ManifestAnnotator.PipelineAnnotation}={pipeline}");

    /// <summary>
    /// The object as a prune sees it, or null when it is no run of an event (<see cref="RunClassification.State"/>) or its
    /// pipeline label and annotation disagree (changed by hand).
    /// </summary>
    public static PruneCandidate? Read(string apiVersion, string kind, JsonElement obj)
    {
        if (RunClassification.State(apiVersion, kind, obj) is not { } state)
        {
            return null;
        }

        var metadata = obj.GetProperty("metadata");
        var pipeline = Text(metadata, "annotations", ManifestAnnotator.PipelineAnnotation);
        if (pipeline != Text(metadata, "labels", ManifestAnnotator.PipelineAnnotation))
        {
            return null;
        }

        var created = RunClassification.Text(metadata, "creationTimestamp") is { } text
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : (DateTimeOffset?)null;
        return new PruneCandidate(state, pipeline, created, RunClassification.Text(metadata, "uid"), RunClassification.Text(metadata, "resourceVersion"));
    }

    /// <summary>
    /// The objects <paramref name="prune"/> deletes among <paramref name="listed"/>: of those of its ref (repository and
    /// ref as their annotations say), its pipeline and its namespaces that are finished, not followed as running by the
    /// ref, and have a creation time, every one but the newest <see cref="RunPrune.Keep"/> (newest by creation time,
    /// then by name). Running objects are neither deleted nor counted.
    /// </summary>
    public static IReadOnlyList<PruneCandidate> Select(IEnumerable<PruneCandidate> listed, RunPrune prune) =>
        [.. listed
            .Where(c => Covers(prune, c) && c.State.Result != RunResult.Running && c.Created is not null && !Followed(prune, c.State))
            .OrderByDescending(c => c.Created)
            .ThenByDescending(c => c.State.Name, StringComparer.Ordinal)
            .ThenByDescending(c => c.State.Kind, StringComparer.Ordinal)
            .Skip(Math.Max(0, prune.Keep))];

    private static bool Covers(RunPrune prune, PruneCandidate c) =>
        RefKey.For(c.State.Forge ?? ForgeNames.GitHub, c.State.Repository, c.State.Ref) == prune.Key
        && c.Pipeline == prune.Pipeline
        && prune.Namespaces.Contains(c.State.Namespace);

    private static bool Followed(RunPrune prune, RunObjectState s) => prune.Followed.Any(f =>
        f.Kind == s.Kind && f.Namespace == s.Namespace && f.Name == s.Name && ApiResource.GroupOf(f.ApiVersion) == ApiResource.GroupOf(s.ApiVersion));

    private static string? Text(JsonElement metadata, string map, string key) =>
        metadata.TryGetProperty(map, out var values) && values.ValueKind == JsonValueKind.Object ? RunClassification.Text(values, key) : null;
}
