using System.Text.Json;
using System.Text.Json.Nodes;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Kubernetes;
using CiTrigger.Grains.Manifests;
using CiTrigger.Grains.Pipeline;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.Unit;

/// <summary>
/// keepRuns' choice among a ref's listed run objects (<see cref="RunPruning"/>): the newest N finished ones per ref and
/// pipeline stay, older finished ones go; never a running one, another repository's or ref's, another pipeline's.
/// </summary>
public class RunPruningTests
{
    private static readonly string Key = HookEvents.Key;

    /// <summary>A run object as the API server lists it, applied for <paramref name="repository"/>'s <paramref name="gitRef"/>.</summary>
    private static JsonObject Run(
        string name, int minute, RunResult result, string kind = "Workflow", string repository = HookEvents.Repository, string gitRef = HookEvents.Ref,
        string? pipeline = null, string ns = "ci", string? forge = null, int second = 0)
    {
        var delivery = "d-" + name;
        var annotations = new JsonObject
        {
            ["k8s-webhook-handler.io/delivery"] = delivery,
            ["k8s-webhook-handler.io/repo_name"] = repository,
            ["k8s-webhook-handler.io/ref"] = gitRef,
        };
        var labels = new JsonObject
        {
            ["k8s-webhook-handler.io/delivery"] = delivery,
            // The ref's own label on every object: whose an object is must be read from its annotations.
            ["k8s-webhook-handler.io/ref-hash"] = ManifestAnnotator.RefLabelValue(Key),
        };
        if (pipeline is not null)
        {
            annotations["k8s-webhook-handler.io/pipeline"] = pipeline;
            labels["k8s-webhook-handler.io/pipeline"] = pipeline;
        }

        if (forge is not null)
        {
            annotations["k8s-webhook-handler.io/forge"] = forge;
        }

        var obj = new JsonObject
        {
            ["apiVersion"] = kind == "Job" ? "batch/v1" : "argoproj.io/v1alpha1",
            ["kind"] = kind,
            ["metadata"] = new JsonObject
            {
                ["name"] = name,
                ["namespace"] = ns,
                ["uid"] = "uid-" + name,
                ["resourceVersion"] = (1000 + minute).ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["creationTimestamp"] = $"2026-12-07T10:{minute:00}:{second:00}Z",
                ["labels"] = labels,
                ["annotations"] = annotations,
            },
        };
        obj["status"] = (kind, result) switch
        {
            ("Job", RunResult.Running) => new JsonObject { ["active"] = 1 },
            ("Job", RunResult.Success) => JsonNode.Parse("""{"conditions":[{"type":"Complete","status":"True"}]}"""),
            ("Job", _) => JsonNode.Parse("""{"conditions":[{"type":"Failed","status":"True","reason":"BackoffLimitExceeded"}]}"""),
            (_, RunResult.Running) => new JsonObject { ["phase"] = "Running" },
            (_, RunResult.Success) => new JsonObject { ["phase"] = "Succeeded" },
            _ => new JsonObject { ["phase"] = "Failed" },
        };
        return obj;
    }

    private static PruneCandidate Read(JsonObject obj) =>
        RunPruning.Read(obj["apiVersion"]!.GetValue<string>(), obj["kind"]!.GetValue<string>(), JsonSerializer.SerializeToElement(obj))
        ?? throw new InvalidOperationException($"{obj["metadata"]!["name"]} is no run object");

    private static RunPrune Prune(int keep, string? pipeline = null, string[]? namespaces = null, params RunObjectRecord[] followed) =>
        new(Key, pipeline, namespaces ?? ["ci"], keep, followed);

    private static string[] Doomed(RunPrune prune, params JsonObject[] listed) =>
        [.. RunPruning.Select(listed.Select(Read), prune).Select(c => c.State.Name)];

    [Fact]
    public void The_newest_finished_objects_stay_older_finished_ones_go_and_running_ones_are_neither_deleted_nor_counted()
    {
        var doomed = Doomed(Prune(keep: 2),
            Run("a", 0, RunResult.Success), Run("b", 1, RunResult.Failure), Run("c", 2, RunResult.Running),
            Run("d", 3, RunResult.Success), Run("e", 4, RunResult.Cancelled), Run("f", 5, RunResult.Running));

        Assert.Equal(["b", "a"], doomed);
    }

    [Fact]
    public void Keeping_none_deletes_every_finished_object_and_keeping_more_than_there_are_deletes_nothing()
    {
        JsonObject[] listed = [Run("a", 0, RunResult.Success), Run("b", 1, RunResult.Running), Run("c", 2, RunResult.Failure)];

        Assert.Equal(["c", "a"], Doomed(Prune(keep: 0), listed));
        Assert.Empty(Doomed(Prune(keep: 2), listed));
    }

    [Fact]
    public void Another_repositorys_or_refs_or_forges_objects_are_never_deleted_or_counted_though_they_carry_the_refs_label()
    {
        var doomed = Doomed(Prune(keep: 1),
            Run("theirs-old", 0, RunResult.Success, repository: "octo/other"),
            Run("branch-old", 1, RunResult.Success, gitRef: "refs/heads/feature"),
            Run("gitlab-old", 2, RunResult.Success, forge: "gitlab"),
            Run("ours-old", 3, RunResult.Success),
            // The repository as the event spelled it: keys compare it in lower case.
            Run("ours-new", 4, RunResult.Success, repository: "Octo/App"),
            Run("theirs-new", 5, RunResult.Success, repository: "octo/other"),
            Run("branch-new", 6, RunResult.Success, gitRef: "refs/heads/feature"));

        Assert.Equal(["ours-old"], doomed);
    }

    [Fact]
    public void Each_pipeline_is_counted_apart_and_objects_of_no_pipeline_are_a_group_of_their_own()
    {
        JsonObject[] listed =
        [
            Run("backend-1", 0, RunResult.Success, pipeline: "backend"), Run("docs-1", 1, RunResult.Success, pipeline: "docs"),
            Run("backend-2", 2, RunResult.Success, pipeline: "backend"), Run("single-1", 3, RunResult.Success),
            Run("docs-2", 4, RunResult.Success, pipeline: "docs"), Run("single-2", 5, RunResult.Failure),
            Run("backend-3", 6, RunResult.Success, pipeline: "backend"),
        ];

        Assert.Equal(["backend-2", "backend-1"], Doomed(Prune(keep: 1, pipeline: "backend"), listed));
        Assert.Equal(["docs-1"], Doomed(Prune(keep: 1, pipeline: "docs"), listed));
        Assert.Equal(["single-1"], Doomed(Prune(keep: 1), listed));
    }

    [Fact]
    public void Objects_the_ref_still_follows_as_running_and_objects_outside_the_prunes_namespaces_are_left_and_not_counted()
    {
        var followed = new RunObjectRecord("argoproj.io/v1", "Workflow", "ci", "b", RunResult.Running);

        var doomed = Doomed(Prune(keep: 1, followed: followed),
            Run("a", 0, RunResult.Success), Run("b", 1, RunResult.Success), Run("elsewhere", 2, RunResult.Success, ns: "other"), Run("c", 3, RunResult.Success));

        Assert.Equal(["a"], doomed);
    }

    [Fact]
    public void Kinds_and_namespaces_of_the_prune_are_counted_together_and_objects_of_one_second_are_ordered_by_name()
    {
        var doomed = Doomed(Prune(keep: 2, namespaces: ["ci", "other"]),
            Run("build-b", 1, RunResult.Success, kind: "Job", second: 30), Run("build-a", 1, RunResult.Failure, second: 30),
            Run("build-c", 1, RunResult.Success, ns: "other", second: 30), Run("old", 0, RunResult.Success, kind: "Job"));

        Assert.Equal(["build-a", "old"], doomed);
    }

    [Fact]
    public void An_object_is_read_with_its_pipeline_creation_time_uid_and_resource_version_unless_its_labels_were_changed_by_hand()
    {
        var read = Read(Run("a", 7, RunResult.Failure, kind: "Job", pipeline: "backend"));
        var relabelled = Run("b", 0, RunResult.Success, pipeline: "backend");
        relabelled["metadata"]!["labels"]!["k8s-webhook-handler.io/pipeline"] = "docs";
        var unlabelled = Run("c", 0, RunResult.Success);
        unlabelled["metadata"]!["labels"]!.AsObject().Remove("k8s-webhook-handler.io/delivery");

        Assert.Equal(("backend", new DateTimeOffset(2026, 12, 7, 10, 7, 0, TimeSpan.Zero), "uid-a", "1007", RunResult.Failure, "d-a"),
            (read.Pipeline, read.Created, read.Uid, read.ResourceVersion, read.State.Result, read.State.Delivery));
        Assert.Null(RunPruning.Read("argoproj.io/v1alpha1", "Workflow", JsonSerializer.SerializeToElement(relabelled)));
        Assert.Null(RunPruning.Read("argoproj.io/v1alpha1", "Workflow", JsonSerializer.SerializeToElement(unlabelled)));
    }

    [Fact]
    public void An_object_without_a_creation_time_is_neither_deleted_nor_counted()
    {
        var undated = Run("undated", 0, RunResult.Success);
        undated["metadata"]!.AsObject().Remove("creationTimestamp");

        Assert.Equal(["a"], Doomed(Prune(keep: 1), undated, Run("a", 1, RunResult.Success), Run("b", 2, RunResult.Success)));
    }

    [Fact]
    public void The_selector_names_the_refs_label_and_the_pipelines_or_its_absence()
    {
        var hash = ManifestAnnotator.RefLabelValue(Key);

        Assert.Equal($"k8s-webhook-handler.io/ref-hash={hash},!k8s-webhook-handler.io/pipeline", RunPruning.Selector(Key, null));
        Assert.Equal($"k8s-webhook-handler.io/ref-hash={hash},k8s-webhook-handler.io/pipeline=backend", RunPruning.Selector(Key, "backend"));
    }
}
