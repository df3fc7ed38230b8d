using System.Text.Json.Nodes;
using CiTrigger.Tests.Fakes;
using k8s;
using k8s.Models;
using Xunit;

namespace CiTrigger.Tests.RealCluster;

/// <summary>One service with the k8s/ service account's rights, against the real API server.</summary>
public sealed class RealClusterServiceFixture(RealClusterFixture cluster) : IAsyncLifetime
{
    public RealClusterService Service { get; private set; } = null!;

    public RealCluster Cluster => Service.Cluster;

    public async ValueTask InitializeAsync() => Service = await RealClusterService.StartAsync(await cluster.GetAsync());

    public async ValueTask DisposeAsync()
    {
        if (Service is not null)
        {
            await Service.DisposeAsync();
        }
    }
}

/// <summary>
/// From signed webhook to objects a real kube-apiserver stored, with exactly the rights the Role in k8s/
/// grants: creation by generateName, server-side apply, the server's own validation, and field managers.
/// </summary>
public sealed class PipelineOnRealClusterTests(RealClusterServiceFixture fixture) : IClassFixture<RealClusterServiceFixture>
{
    private RealClusterService Service => fixture.Service;

    private RealCluster Cluster => fixture.Cluster;

    /// <summary>
    /// A named object that is no run kind (a run kind must use generateName: every event starts a new run): a
    /// core Endpoints object, a kind no other test grants or denies and no controller of this cluster touches.
    /// </summary>
    private static string Named(string name, string entrypoint) => $"""
        apiVersion: v1
        kind: Endpoints
        metadata:
          name: {name}
          annotations:
            entrypoint: {entrypoint}
        """;

    /// <summary>Endpoints are no kind the shipped Role grants: granted as docs/install.md tells users to.</summary>
    private Task GrantNamedKindAsync() => Cluster.GrantAsync("", "endpoints", "create", "get", "patch");

    [Fact]
    public async Task A_push_creates_a_workflow_by_generate_name_that_a_list_by_its_delivery_label_finds()
    {
        var repo = Service.NewRepo();

        var delivery = await Service.PushAsync(repo, SampleManifest.Workflow);
        var state = await Service.FinishedAsync(repo);

        var entry = state["history"]![0]!;
        Assert.Equal("applied", entry["outcome"]!.GetValue<string>());
        var recorded = Assert.Single(entry["objects"]!.AsArray())!;
        Assert.Equal("created", recorded["action"]!.GetValue<string>());
        var workflow = Assert.Single(await Cluster.WorkflowsOfDeliveryAsync(delivery));
        var metadata = workflow["metadata"]!;
        Assert.Equal(recorded["name"]!.GetValue<string>(), metadata["name"]!.GetValue<string>());
        Assert.StartsWith("ci-", metadata["name"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(("ci", "ci-"), (metadata["namespace"]!.GetValue<string>(), metadata["generateName"]!.GetValue<string>()));
        Assert.Equal(repo.Branches["main"], metadata["annotations"]!["k8s-webhook-handler.io/revision"]!.GetValue<string>());
        Assert.Equal("platform", metadata["annotations"]!["team"]!.GetValue<string>());
        Assert.Equal("build", workflow["spec"]!["entrypoint"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_named_object_is_server_side_applied_and_the_same_event_applied_again_changes_nothing_not_even_another_managers_fields()
    {
        await GrantNamedKindAsync();
        var name = "settings-" + Guid.NewGuid().ToString("N")[..10];
        var repo = Service.NewRepo();
        var delivery = await Service.PushAsync(repo, Named(name, "build"));
        await Service.FinishedAsync(repo);

        // Another field manager adds a label of its own, as a controller or an operator may.
        await Cluster.Admin.CoreV1.PatchNamespacedEndpointsAsync(
            new V1Patch("""{"metadata":{"labels":{"team":"platform"}}}""", V1Patch.PatchType.MergePatch), name, RealCluster.Namespace, fieldManager: "platform-team");
        var first = (await Cluster.EndpointsAsync(name))!;

        // The same delivery again, processed by a second installation that has never seen it (as after a
        // lost data directory): everything it sends is what the first sent, so the server changes nothing.
        await using var second = await RealClusterService.StartAsync(Cluster);
        var again = second.GitHub.Repo(repo.FullName);
        again.Commit("main", ".ci/workflow.yaml", Named(name, "build"), repo.Branches["main"]);
        using (var response = await second.Service.SendAsync("push",
            Support.Payloads.Push(repo.FullName, "refs/heads/main", Support.Payloads.Sha(1), repo.Branches["main"]), delivery))
        {
            Assert.True(response.IsSuccessStatusCode);
        }

        var state = await second.FinishedAsync(again);

        var entry = state["history"]![0]!;
        Assert.Equal(("applied", "applied"), (entry["outcome"]!.GetValue<string>(), entry["objects"]![0]!["action"]!.GetValue<string>()));
        var after = (await Cluster.EndpointsAsync(name))!;
        Assert.Equal(first["metadata"]!["resourceVersion"]!.GetValue<string>(), after["metadata"]!["resourceVersion"]!.GetValue<string>());
        Assert.Equal("platform", after["metadata"]!["labels"]!["team"]!.GetValue<string>());
        var managers = after["metadata"]!["managedFields"]!.AsArray();
        var ours = Assert.Single(managers, m => m!["manager"]!.GetValue<string>() == "k8s-webhook-handler")!;
        Assert.Equal("Apply", ours["operation"]!.GetValue<string>());
        Assert.NotNull(ours["fieldsV1"]!["f:metadata"]!["f:annotations"]!["f:entrypoint"]);
    }

    [Fact]
    public async Task A_workflow_the_server_rejects_with_422_fails_at_once_and_the_queue_moves_on()
    {
        var repo = Service.NewRepo();
        const string withoutSpec = "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata:\n  generateName: ci-\n";

        var rejected = await Service.PushAsync(repo, withoutSpec);
        var accepted = await Service.PushAsync(repo, SampleManifest.Workflow);
        var state = await Service.FinishedAsync(repo, 2);

        var history = state["history"]!.AsArray();
        var failed = history[1]!;
        Assert.Equal(("failed", "applied"), (failed["outcome"]!.GetValue<string>(), history[0]!["outcome"]!.GetValue<string>()));
        var error = failed["error"]!.GetValue<string>();
        Assert.Contains("answered 422", error, StringComparison.Ordinal);
        Assert.Contains("spec: Required value", error, StringComparison.Ordinal);
        Assert.Single(failed["attempts"]!.AsArray());
        Assert.Empty(await Cluster.WorkflowsOfDeliveryAsync(rejected));
        Assert.Single(await Cluster.WorkflowsOfDeliveryAsync(accepted));
    }

    [Fact]
    public async Task A_named_object_another_field_manager_created_is_refused_and_keeps_its_fields()
    {
        await GrantNamedKindAsync();
        var name = "shared-" + Guid.NewGuid().ToString("N")[..10];
        var theirs = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Endpoints",
            ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = new JsonObject { ["owner"] = "platform" }, ["annotations"] = new JsonObject { ["entrypoint"] = "theirs" } },
        };
        await Cluster.Admin.CoreV1.PatchNamespacedEndpointsAsync(new V1Patch(theirs.ToJsonString(), V1Patch.PatchType.ApplyPatch),
            name, RealCluster.Namespace, fieldManager: "platform-team");
        var repo = Service.NewRepo();

        await Service.PushAsync(repo, Named(name, "ours"));
        var state = await Service.FinishedAsync(repo);

        Assert.Equal("failed", state["history"]![0]!["outcome"]!.GetValue<string>());
        Assert.Contains("already exists and was not created by this service", state["history"]![0]!["error"]!.GetValue<string>(), StringComparison.Ordinal);
        var endpoints = (await Cluster.EndpointsAsync(name))!;
        Assert.Equal("theirs", endpoints["metadata"]!["annotations"]!["entrypoint"]!.GetValue<string>());
        Assert.DoesNotContain(endpoints["metadata"]!["managedFields"]!.AsArray(), m => m!["manager"]!.GetValue<string>() == "k8s-webhook-handler");
    }

    [Fact]
    public async Task A_manifest_naming_another_namespace_is_refused_and_nothing_reaches_the_cluster()
    {
        var repo = Service.NewRepo();
        var manifest = SampleManifest.Workflow.Replace("  generateName: ci-", "  generateName: ci-\n  namespace: default", StringComparison.Ordinal);

        var delivery = await Service.PushAsync(repo, manifest);
        var state = await Service.FinishedAsync(repo);

        var entry = state["history"]![0]!;
        Assert.Equal("failed", entry["outcome"]!.GetValue<string>());
        Assert.Contains("names namespace 'default'", entry["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Empty(await Cluster.WorkflowsOfDeliveryAsync(delivery, @namespace: null));
    }
}
