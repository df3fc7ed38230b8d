using System.Text.Json.Nodes;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.EndToEnd;

/// <summary>
/// From signed webhook to applied objects: what the fake GitHub was asked for and what the fake
/// Kubernetes API received, request by request.
/// </summary>
[Collection(SharedService.Name)]
public class PipelineTests(ServiceFixture fixture)
{
    private const string MultiDocument = """
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: build-settings
        data:
          mode: "release"
        ---
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata:
          generateName: ci-
        spec:
          entrypoint: build
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: Role
        metadata:
          name: ci-deployer
        rules: []
        """;

    private TriggerHost Service => fixture.Service;

    /// <summary>Named objects belong to the repository that first applied them: each test names its own.</summary>
    private static string OwnNames(string manifest, string suffix) => manifest
        .Replace("name: build-settings", $"name: build-settings-{suffix}", StringComparison.Ordinal)
        .Replace("name: ci-deployer", $"name: ci-deployer-{suffix}", StringComparison.Ordinal);

    [Fact]
    public async Task A_named_object_belongs_to_the_repository_that_first_applied_it_and_another_repository_is_refused()
    {
        var owner = fixture.NewRepo();
        var intruder = fixture.NewRepo();
        var name = "shared-" + owner.FullName[5..15];
        var manifest = $"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  who: WHO\n";
        var ownerCommit = owner.Commit("main", ".ci/workflow.yaml", manifest.Replace("WHO", "owner", StringComparison.Ordinal));
        var intruderCommit = intruder.Commit("main", ".ci/workflow.yaml", manifest.Replace("WHO", "intruder", StringComparison.Ordinal));

        await Service.SendAsync("push", Payloads.Push(owner.FullName, "refs/heads/main", Payloads.ZeroSha, ownerCommit));
        await fixture.Finished(owner.FullName, "refs/heads/main");
        await Service.SendAsync("push", Payloads.Push(intruder.FullName, "refs/heads/main", Payloads.ZeroSha, intruderCommit));
        var refused = (await fixture.Finished(intruder.FullName, "refs/heads/main"))["history"]![0]!;
        await Service.SendAsync("push", Payloads.Push(owner.FullName, "refs/heads/main", ownerCommit, ownerCommit));
        var again = await fixture.Finished(owner.FullName, "refs/heads/main", 2);

        Assert.Equal("failed", refused["outcome"]!.GetValue<string>());
        Assert.Contains($"ConfigMap ci/{name} belongs to repository {owner.FullName}; refused for {intruder.FullName}", refused["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Single(refused["attempts"]!.AsArray());
        Assert.Empty(fixture.AppliedFor(intruder.FullName));
        Assert.Equal("applied", again["history"]![0]!["outcome"]!.GetValue<string>());
        var stored = Assert.Single(fixture.Kubernetes.Objects, o => o["metadata"]!["name"]!.GetValue<string>() == name);
        Assert.Equal("owner", stored["data"]!["who"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_object_the_service_did_not_create_is_never_taken_over_and_nothing_of_the_manifest_is_applied()
    {
        var repo = fixture.NewRepo();
        var name = "foreign-" + repo.FullName[5..15];
        fixture.Kubernetes.Seed(new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "ConfigMap",
            ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = "ci" },
            ["data"] = new JsonObject { ["who"] = "someone else" },
        });
        var after = repo.Commit("main", ".ci/workflow.yaml",
            SampleManifest.Workflow + $"\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  who: the repository\n");

        await Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/main", Payloads.ZeroSha, after));
        var entry = (await fixture.Finished(repo.FullName, "refs/heads/main"))["history"]![0]!;

        Assert.Equal("failed", entry["outcome"]!.GetValue<string>());
        Assert.Contains($"ConfigMap ci/{name} already exists and was not created by this service", entry["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Empty(fixture.AppliedFor(repo.FullName));
        var stored = Assert.Single(fixture.Kubernetes.Objects, o => o["metadata"]!["name"]!.GetValue<string>() == name);
        Assert.Equal("someone else", stored["data"]!["who"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_push_applies_the_manifest_read_at_after_with_every_annotation_and_its_own_kept()
    {
        var repo = fixture.NewRepo();
        var after = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        var delivery = Guid.NewGuid().ToString();

        await Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/main", Payloads.Sha(9), after), delivery);
        var state = await fixture.Finished(repo.FullName, "refs/heads/main");

        var read = Assert.Single(fixture.GitHub.ContentRequests, r => r.Path.Contains(repo.FullName, StringComparison.Ordinal));
        Assert.Equal($"/api/v3/repos/{repo.FullName}/contents/.ci/workflow.yaml", read.Path);
        Assert.Equal(after, read.Ref);
        Assert.Equal("application/vnd.github.v3.raw", read.Accept);

        var create = Assert.Single(fixture.AppliedFor(repo.FullName));
        Assert.DoesNotContain(fixture.Kubernetes.Requests, r => r.Method == "GET" && r.Query.Contains(delivery, StringComparison.Ordinal));
        Assert.Equal(("POST", "/apis/argoproj.io/v1alpha1/namespaces/ci/workflows", 201), (create.Method, create.Path, create.Status));
        Assert.StartsWith("application/json", create.ContentType, StringComparison.Ordinal);
        var metadata = create.Json["metadata"]!;
        var annotations = metadata["annotations"]!;
        Assert.Equal("platform", annotations["team"]!.GetValue<string>());
        Assert.Equal(new Dictionary<string, string>
        {
            ["ref"] = "refs/heads/main",
            ["revision"] = after,
            ["before"] = Payloads.Sha(9),
            ["repo_name"] = repo.FullName,
            ["repo_url"] = $"git://github.com/{repo.FullName}.git",
            ["repo_ssh"] = $"git@github.com:{repo.FullName}.git",
            ["event_type"] = "push",
            ["event_action"] = "",
            ["delivery"] = delivery,
        }, annotations.AsObject().Where(a => a.Key.StartsWith("k8s-webhook-handler.io/", StringComparison.Ordinal) && a.Key != "k8s-webhook-handler.io/document")
            .ToDictionary(a => a.Key["k8s-webhook-handler.io/".Length..], a => a.Value!.GetValue<string>()));
        Assert.Equal(delivery, metadata["labels"]!["k8s-webhook-handler.io/delivery"]!.GetValue<string>());
        Assert.Equal("ci", metadata["namespace"]!.GetValue<string>());

        var entry = state["history"]![0]!;
        Assert.Equal("applied", entry["outcome"]!.GetValue<string>());
        var applied = Assert.Single(entry["objects"]!.AsArray())!;
        Assert.Equal(("Workflow", "created"), (applied["kind"]!.GetValue<string>(), applied["action"]!.GetValue<string>()));
        Assert.StartsWith("ci-", applied["name"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains(fixture.Kubernetes.Objects, o => o["metadata"]!["name"]!.GetValue<string>() == applied["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_job_takes_the_revision_and_branch_in_its_args_and_argos_own_parameters_reach_the_cluster_untouched()
    {
        var repo = fixture.NewRepo();
        var after = repo.Commit("feature/params", ".ci/workflow.yaml", """
            apiVersion: batch/v1
            kind: Job
            metadata:
              generateName: ci-{{ pipeline }}-
            spec:
              template:
                spec:
                  restartPolicy: Never
                  containers:
                    - name: build
                      image: busybox
                      args: ["checkout", "{{ revision }}", "--branch={{branch}}", "{{workflow.name}}"]
            """);

        await Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/feature/params", Payloads.Sha(9), after));
        var state = await fixture.Finished(repo.FullName, "refs/heads/feature/params");

        Assert.Equal("applied", state["history"]![0]!["outcome"]!.GetValue<string>());
        var create = Assert.Single(fixture.AppliedFor(repo.FullName));
        Assert.Equal("ci-workflow-", create.Json["metadata"]!["generateName"]!.GetValue<string>());
        Assert.Equal(["checkout", after, "--branch=feature/params", "{{workflow.name}}"],
            create.Json["spec"]!["template"]!["spec"]!["containers"]![0]!["args"]!.AsArray().Select(a => a!.GetValue<string>()));
    }

    [Fact]
    public async Task Every_document_is_applied_in_file_order_named_ones_by_server_side_apply()
    {
        var repo = fixture.NewRepo();
        var suffix = repo.FullName[5..15];
        var after = repo.Commit("main", ".ci/workflow.yaml", OwnNames(MultiDocument, suffix));

        await Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/main", Payloads.Sha(1), after));
        await fixture.Finished(repo.FullName, "refs/heads/main");

        var requests = fixture.AppliedFor(repo.FullName);
        Assert.Equal(
        [
            $"PATCH /api/v1/namespaces/ci/configmaps/build-settings-{suffix}",
            "POST /apis/argoproj.io/v1alpha1/namespaces/ci/workflows",
            $"PATCH /apis/rbac.authorization.k8s.io/v1/namespaces/ci/roles/ci-deployer-{suffix}",
        ], requests.Select(r => $"{r.Method} {r.Path}"));
        Assert.All(requests.Where(r => r.Method == "PATCH"), r =>
        {
            Assert.Equal("application/apply-patch+yaml", r.ContentType.Split(';')[0]);
            Assert.Contains("fieldManager=k8s-webhook-handler", r.Query, StringComparison.Ordinal);
            Assert.Contains("force=true", r.Query, StringComparison.Ordinal);
        });
        Assert.Equal(["0", "1", "2"], requests.Select(r => r.Json["metadata"]!["annotations"]!["k8s-webhook-handler.io/document"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Applying_a_named_object_again_converges_instead_of_failing()
    {
        var repo = fixture.NewRepo();
        var manifest = OwnNames(MultiDocument, repo.FullName[5..15]);
        var first = repo.Commit("main", ".ci/workflow.yaml", manifest);
        var second = repo.Commit("main", ".ci/workflow.yaml", manifest.Replace("\"release\"", "\"debug\"", StringComparison.Ordinal));

        await Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/main", Payloads.Sha(1), first));
        await Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/main", first, second));
        var state = await fixture.Finished(repo.FullName, "refs/heads/main", 2);

        Assert.All(state["history"]!.AsArray(), h => Assert.Equal("applied", h!["outcome"]!.GetValue<string>()));
        var configMaps = fixture.Kubernetes.Objects.Where(o => o["kind"]!.GetValue<string>() == "ConfigMap"
            && o["metadata"]!["annotations"]?["k8s-webhook-handler.io/repo_name"]?.GetValue<string>() == repo.FullName).ToList();
        Assert.Equal("debug", Assert.Single(configMaps)["data"]!["mode"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_delete_reads_the_manifest_from_the_default_branch_with_an_escaped_ref()
    {
        var repo = fixture.NewRepo(defaultBranch: "release/v1+hot#fix");
        repo.Commit("release/v1+hot#fix", ".ci/workflow.yaml", SampleManifest.Workflow);

        await Service.SendAsync("delete", Payloads.Delete(repo.FullName, "feature/gone", "branch", "release/v1+hot#fix"));
        var state = await fixture.Finished(repo.FullName, "refs/heads/feature/gone");

        Assert.Equal("applied", state["history"]![0]!["outcome"]!.GetValue<string>());
        Assert.Equal("release/v1+hot#fix", Assert.Single(fixture.GitHub.ContentRequests, r => r.Path.Contains(repo.FullName, StringComparison.Ordinal)).Ref);
        var annotations = Assert.Single(fixture.AppliedFor(repo.FullName)).Json["metadata"]!["annotations"]!;
        Assert.Equal(("delete", "refs/heads/feature/gone", "", ""), (
            annotations["k8s-webhook-handler.io/event_type"]!.GetValue<string>(),
            annotations["k8s-webhook-handler.io/ref"]!.GetValue<string>(),
            annotations["k8s-webhook-handler.io/revision"]!.GetValue<string>(),
            annotations["k8s-webhook-handler.io/before"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_push_that_deletes_its_ref_reads_the_manifest_from_the_default_branch()
    {
        var repo = fixture.NewRepo(defaultBranch: "trunk");
        repo.Commit("trunk", ".ci/workflow.yaml", SampleManifest.Workflow);

        await Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/old", Payloads.Sha(4), Payloads.ZeroSha, "trunk", deleted: true));
        await fixture.Finished(repo.FullName, "refs/heads/old");

        Assert.Equal("trunk", Assert.Single(fixture.GitHub.ContentRequests, r => r.Path.Contains(repo.FullName, StringComparison.Ordinal)).Ref);
    }

    [Fact]
    public async Task Check_runs_and_suites_apply_at_their_head_commit_with_their_action()
    {
        var repo = fixture.NewRepo();
        var head = repo.Commit("topic", ".ci/workflow.yaml", SampleManifest.Workflow);

        await Service.SendAsync("check_run", Payloads.CheckRun(repo.FullName, "topic", head, "rerequested"));
        await Service.SendAsync("check_suite", Payloads.CheckSuite(repo.FullName, "topic", Payloads.Sha(3), head, "requested"));
        await fixture.Finished(repo.FullName, "refs/heads/topic", 2);

        var annotations = fixture.AppliedFor(repo.FullName).Select(r => r.Json["metadata"]!["annotations"]!).ToList();
        Assert.Equal([("check_run", "rerequested", head), ("check_suite", "requested", head)], annotations.Select(a => (
            a["k8s-webhook-handler.io/event_type"]!.GetValue<string>(),
            a["k8s-webhook-handler.io/event_action"]!.GetValue<string>(),
            a["k8s-webhook-handler.io/revision"]!.GetValue<string>())));
        Assert.All(fixture.GitHub.ContentRequests.Where(r => r.Path.Contains(repo.FullName, StringComparison.Ordinal)), r => Assert.Equal(head, r.Ref));
    }

    [Theory]
    [InlineData("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  namespace: other\n", "names namespace 'other'")]
    [InlineData("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n", "cluster-scoped Namespace; refused")]
    [InlineData("kind: ConfigMap\nmetadata:\n  name: cm\n", "has no apiVersion")]
    [InlineData("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels: {a: b}\n", "needs metadata.name or metadata.generateName")]
    [InlineData("apiVersion: example.com/v1\nkind: Gadget\nmetadata:\n  name: g\n", "serves no kind Gadget")]
    public async Task A_refused_second_document_applies_nothing_and_records_why(string extraDocument, string reason)
    {
        var repo = fixture.NewRepo();
        var after = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow + "\n---\n" + extraDocument);

        await Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/main", Payloads.Sha(1), after));
        var state = await fixture.Finished(repo.FullName, "refs/heads/main");

        var entry = state["history"]![0]!;
        Assert.Equal("failed", entry["outcome"]!.GetValue<string>());
        Assert.Contains(reason, entry["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Single(entry["attempts"]!.AsArray());
        Assert.Empty(fixture.AppliedFor(repo.FullName));
    }

    [Theory]
    [InlineData(null, "was not found")]
    [InlineData("a: [unclosed\n", "invalid YAML")]
    [InlineData("a: 1\na: 2\n", "duplicate key")]
    public async Task A_missing_or_invalid_manifest_is_a_permanent_failure_and_the_queue_moves_on(string? manifest, string reason)
    {
        var repo = fixture.NewRepo();
        var bad = manifest is null ? repo.Commit("main", "README.md", "no manifest here") : repo.Commit("main", ".ci/workflow.yaml", manifest);
        var good = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);

        await Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/main", Payloads.Sha(1), bad));
        await Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/main", bad, good));
        var state = await fixture.Finished(repo.FullName, "refs/heads/main", 2);

        var history = state["history"]!.AsArray();
        Assert.Equal(("failed", "applied"), (history[1]!["outcome"]!.GetValue<string>(), history[0]!["outcome"]!.GetValue<string>()));
        Assert.Contains(reason, history[1]!["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Single(fixture.AppliedFor(repo.FullName));
    }
}
