using System.Diagnostics;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using Xunit;
using k8s.Models;
using k8s;

namespace CiTrigger.Tests.RealCluster;

/// <summary>
/// What a real cluster changes under a running service: CRDs that appear and disappear after start-up,
/// and an answer lost after the server carried out a create.
/// </summary>
public sealed class DiscoveryAndRecoveryTests(RealClusterServiceFixture fixture) : IClassFixture<RealClusterServiceFixture>
{
    private RealClusterService Service => fixture.Service;

    private RealCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task A_crd_installed_after_start_up_is_found_by_the_next_event_and_one_removed_fails_as_not_served()
    {
        var group = $"t{Guid.NewGuid():N}"[..12] + ".example.com";
        var gadget = $"apiVersion: {group}/v1\nkind: Gadget\nmetadata:\n  generateName: gadget-\nspec:\n  size: 3\n";
        var repo = Service.NewRepo();

        await Service.PushAsync(repo, gadget);
        var before = await Service.FinishedAsync(repo);
        Assert.Contains($"serves no kind Gadget in {group}/v1", before["history"]![0]!["error"]!.GetValue<string>(), StringComparison.Ordinal);

        // What a user does: install the CRD, then grant the service account the kind (docs/install.md: "further kinds").
        var crd = Gadgets(group);
        await Cluster.InstallCrdAsync(crd);
        await Cluster.GrantAsync(group, "gadgets", "create", "list", "patch");
        var created = await Service.PushAsync(repo, gadget);
        var after = await Service.FinishedAsync(repo, 2);

        var applied = after["history"]![0]!;
        Assert.Equal("applied", applied["outcome"]!.GetValue<string>());
        var list = await Cluster.Admin.CustomObjects.ListNamespacedCustomObjectAsync(group, "v1", RealCluster.Namespace, "gadgets",
            labelSelector: $"k8s-webhook-handler.io/delivery={created}");
        Assert.Single(System.Text.Json.JsonSerializer.SerializeToNode(list)!["items"]!.AsArray());

        await Cluster.Admin.ApiextensionsV1.DeleteCustomResourceDefinitionAsync(crd.Metadata.Name);
        await GoneAsync(group);
        await Service.PushAsync(repo, gadget);
        var removed = await Service.FinishedAsync(repo, 3);

        // The first attempt meets the server's 404 for the resource, forgets the cached discovery, and the
        // next one finds the kind is no longer served: a permanent failure that says so.
        var failed = removed["history"]![0]!;
        Assert.Equal("failed", failed["outcome"]!.GetValue<string>());
        Assert.Contains($"serves no kind Gadget in {group}/v1", failed["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(2, failed["attempts"]!.AsArray().Count);
    }

    [Fact]
    public async Task A_workflow_whose_create_answer_was_lost_is_found_by_its_delivery_label_and_not_created_again()
    {
        await using var proxy = await LossyApiProxy.StartAsync(Cluster.Server);
        var losing = 1;
        proxy.LoseAnswer = request => request.Method == "POST" && request.Path.Value!.EndsWith("/workflows", StringComparison.Ordinal)
            && Interlocked.Exchange(ref losing, 0) == 1;
        await using var service = await RealClusterService.StartAsync(Cluster, directory => Cluster.WriteKubeConfig(directory, Cluster.ServiceAccountToken, proxy.Url));
        var repo = service.NewRepo();

        var delivery = await service.PushAsync(repo, SampleManifest.Workflow);
        var state = await service.FinishedAsync(repo);

        Assert.Equal(1, proxy.Lost);
        var entry = state["history"]![0]!;
        Assert.Equal("applied", entry["outcome"]!.GetValue<string>());
        Assert.Equal(2, entry["attempts"]!.AsArray().Count);
        var recorded = Assert.Single(entry["objects"]!.AsArray())!;
        Assert.Equal("existing", recorded["action"]!.GetValue<string>());
        var workflow = Assert.Single(await Cluster.WorkflowsOfDeliveryAsync(delivery));
        Assert.Equal(workflow["metadata"]!["name"]!.GetValue<string>(), recorded["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task In_pipeline_mode_a_lost_create_is_found_again_by_its_pipeline_and_the_pipeline_that_applied_is_not_applied_again()
    {
        await using var proxy = await LossyApiProxy.StartAsync(Cluster.Server);
        var posts = 0;
        proxy.LoseAnswer = request => request.Method == "POST" && request.Path.Value!.EndsWith("/workflows", StringComparison.Ordinal)
            && Interlocked.Increment(ref posts) == 2;
        await using var service = await RealClusterService.StartAsync(Cluster, directory => Cluster.WriteKubeConfig(directory, Cluster.ServiceAccountToken, proxy.Url),
            new Dictionary<string, string> { [TriggerHost.PipelineMode] = "true" });
        var repo = service.NewRepo();
        var after = repo.CommitFiles("main", new Dictionary<string, string>
        {
            [".ci/a.yaml"] = SampleManifest.Workflow,
            [".ci/b.yaml"] = SampleManifest.Workflow,
        });
        var delivery = Guid.NewGuid().ToString();
        using (var response = await service.Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/main", Payloads.Sha(1), after), delivery))
        {
            Assert.True(response.IsSuccessStatusCode);
        }

        var state = await service.FinishedAsync(repo);

        // b's create was answered to nobody: the retry skips a, finds b's own workflow by its pipeline label, creates nothing.
        Assert.Equal(1, proxy.Lost);
        var entry = state["history"]![0]!;
        Assert.Equal(("applied", 2), (entry["outcome"]!.GetValue<string>(), entry["attempts"]!.AsArray().Count));
        var workflows = await Cluster.WorkflowsOfDeliveryAsync(delivery);
        Assert.Equal(2, workflows.Count);
        var byPipeline = workflows.ToDictionary(w => w["metadata"]!["labels"]!["k8s-webhook-handler.io/pipeline"]!.GetValue<string>(), w => w["metadata"]!["name"]!.GetValue<string>());
        var recorded = entry["objects"]!.AsArray().Select(o => (o!["pipeline"]!.GetValue<string>(), o["name"]!.GetValue<string>(), o["action"]!.GetValue<string>())).ToList();
        Assert.Equal([("a", byPipeline["a"], "created"), ("b", byPipeline["b"], "existing")], recorded);
        Assert.Equal(2, posts);
    }

    private static V1CustomResourceDefinition Gadgets(string group) => new()
    {
        Metadata = new V1ObjectMeta { Name = $"gadgets.{group}" },
        Spec = new V1CustomResourceDefinitionSpec
        {
            Group = group,
            Scope = "Namespaced",
            Names = new V1CustomResourceDefinitionNames { Kind = "Gadget", ListKind = "GadgetList", Plural = "gadgets", Singular = "gadget" },
            Versions =
            [
                new V1CustomResourceDefinitionVersion
                {
                    Name = "v1",
                    Served = true,
                    Storage = true,
                    Schema = new V1CustomResourceValidation
                    {
                        OpenAPIV3Schema = new V1JSONSchemaProps
                        {
                            Type = "object",
                            Properties = new Dictionary<string, V1JSONSchemaProps>
                            {
                                ["spec"] = new() { Type = "object", XKubernetesPreserveUnknownFields = true },
                            },
                        },
                    },
                },
            ],
        },
    };

    /// <summary>Waits until the server no longer serves the group (the CRD's finalizer has run).</summary>
    private async Task GoneAsync(string group)
    {
        using var http = Cluster.Server.HttpClient(Cluster.Server.AdminToken);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            using var discovery = await http.GetAsync(new Uri($"/apis/{group}/v1", UriKind.Relative));
            if (discovery.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
                return;
            }

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"{group} was still served 30 s after its CRD was deleted");
            await Task.Delay(50);
        }
    }
}
