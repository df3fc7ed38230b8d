using System.Text.Json;
using CiTrigger.Grains.Abstractions;

namespace CiTrigger.Grains.Kubernetes;

/// <summary>Where a run object stands, read from the object and its <c>status</c> (an object, present).</summary>
public delegate (RunResult Result, string? Message) RunStatusReader(JsonElement obj, JsonElement status);

/// <summary>
/// How a run of one kind is stopped: the API verb, and the JSON merge patch sent with <c>patch</c>;
/// <c>delete</c> sends <c>propagationPolicy=Background</c>, so the object's pods go too.
/// </summary>
public sealed record RunStop(string Verb, string? MergePatch)
{
    public static RunStop Delete { get; } = new("delete", null);

    public static RunStop Patch(string mergePatch) => new("patch", mergePatch);
}

/// <summary>
/// A kind of run object the service follows: its API group, kind and plural resource name, the version docs and
/// tests write (following and pruning use the version the cluster prefers), how its status reads as a result, and how it is
/// stopped. The Role in k8s/ (rbac.yaml) must grant <see cref="Verbs"/> on <see cref="Plural"/> in <see cref="Group"/>.
/// </summary>
public sealed record RunKind(string Group, string Kind, string Plural, string DefaultVersion, RunStatusReader ReadStatus, RunStop Stop)
{
    public string DefaultApiVersion => $"{Group}/{DefaultVersion}";

    /// <summary>
    /// The verbs following (<see cref="RunKinds.FollowVerbs"/>), stopping and pruning (<see cref="RunKinds.PruneVerbs"/>)
    /// runs of this kind need.
    /// </summary>
    public IReadOnlyList<string> Verbs => [.. RunKinds.FollowVerbs.Append(Stop.Verb).Concat(RunKinds.PruneVerbs).Distinct(StringComparer.Ordinal)];
}

/// <summary>
/// The one table of run kinds. An applied object of one of them is an event's run, followed until it finishes;
/// any other object is complete once applied. Adding a kind is one entry here and its rule in k8s/rbac.yaml.
/// </summary>
public static class RunKinds
{
    /// <summary>The verbs following needs on each run kind's resource: one list, then one watch from it.</summary>
    public static readonly IReadOnlyList<string> FollowVerbs = ["list", "watch"];

    /// <summary>
    /// The verbs pruning (a repository's <c>keepRuns</c>, <see cref="KubernetesRunPruner"/>) needs on each run kind's
    /// resource: a list of a ref's objects, and a delete of each finished one beyond those kept.
    /// </summary>
    public static readonly IReadOnlyList<string> PruneVerbs = ["list", "delete"];

    public static readonly IReadOnlyList<RunKind> All =
    [
        new("argoproj.io", "Workflow", "workflows", "v1alpha1", RunClassification.Workflow, RunStop.Patch("""{"spec":{"shutdown":"Terminate"}}""")),
        new("batch", "Job", "jobs", "v1", RunClassification.Job, RunStop.Delete),
        new("tekton.dev", "PipelineRun", "pipelineruns", "v1", RunClassification.Tekton, RunStop.Patch("""{"spec":{"status":"Cancelled"}}""")),
        new("tekton.dev", "TaskRun", "taskruns", "v1", RunClassification.Tekton, RunStop.Patch("""{"spec":{"status":"TaskRunCancelled"}}""")),
    ];

    /// <summary>The run kind of an object of <paramref name="apiVersion"/> and <paramref name="kind"/> (any version of the group), or null when it is none.</summary>
    public static RunKind? Find(string apiVersion, string kind)
    {
        var group = ApiResource.GroupOf(apiVersion);
        return All.FirstOrDefault(k => k.Kind == kind && k.Group == group);
    }
}
