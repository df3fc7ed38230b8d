using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using k8s;
using k8s.Autorest;
using Xunit;

namespace CiTrigger.Tests.RealCluster;

/// <summary>
/// Repository resources on a real API server, with the CRD and the Role of k8s/ and a team namespace granted as
/// k8s/examples/team-namespace.yaml grants it: the service lists and watches them while events flow, applies each
/// repository's namespace and parameters, and says in status.conditions what it made of each spec.
/// </summary>
public sealed class RepositoryResourceTests(RealClusterFixture fixture)
{
    private const string Group = "k8s-webhook-handler.io", Version = "v1alpha1", Plural = "repositories";

    [Fact]
    public async Task A_repository_created_changed_and_deleted_while_events_flow_moves_its_runs_between_namespaces()
    {
        var cluster = await fixture.GetAsync();
        var team = await TeamNamespaceAsync(cluster);
        await using var service = await RealClusterService.StartAsync(cluster, settings: new Dictionary<string, string> { ["Handler:AllowedNamespaces"] = team });
        var repo = service.NewRepo();
        var name = "r-" + Guid.NewGuid().ToString("N")[..8];
        var manifest = SampleManifest.Workflow.Replace("team: platform", "team: platform\n    registry: \"{{ registry }}\"", StringComparison.Ordinal);

        // Before any Repository: the global namespace, and a parameter nobody defined stays as it is.
        var first = await service.PushAsync(repo, manifest);
        await service.FinishedAsync(repo, 1);
        Assert.Equal("{{ registry }}", Annotation(Assert.Single(await cluster.WorkflowsOfDeliveryAsync(first, "ci")), "registry"));

        await CreateAsync(cluster, name, new JsonObject { ["repository"] = repo.FullName.ToUpperInvariant(), ["namespace"] = team, ["params"] = new JsonObject { ["registry"] = "registry.team:5000" } });
        var ready = await ReadyAsync(cluster, name, generation: 1);
        Assert.Equal(("True", "Accepted"), (ready["status"]!.GetValue<string>(), ready["reason"]!.GetValue<string>()));
        Assert.Contains($"runs go to {team}", ready["message"]!.GetValue<string>(), StringComparison.Ordinal);
        await TakenInAsync(service, name, s => s["namespace"]?.GetValue<string>() == team, "the Repository's namespace");

        var second = await service.PushAsync(repo, manifest);
        await service.FinishedAsync(repo, 2);
        Assert.Empty(await cluster.WorkflowsOfDeliveryAsync(second, "ci"));
        Assert.Equal("registry.team:5000", Annotation(Assert.Single(await cluster.WorkflowsOfDeliveryAsync(second, team)), "registry"));

        // Confined: a manifest of this repository cannot name another namespace, not even the service's own.
        var third = await service.PushAsync(repo, manifest.Replace("generateName: ci-", "generateName: ci-\n  namespace: ci", StringComparison.Ordinal));
        var state = await service.FinishedAsync(repo, 3);
        var refused = state["history"]!.AsArray().Single(h => h!["event"]!["delivery"]!.GetValue<string>() == third)!;
        Assert.Equal("failed", refused["outcome"]!.GetValue<string>());
        Assert.Contains($"names namespace 'ci'; only '{team}' allowed (spec.namespace of the Repository ci/{name})", refused["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Empty(await cluster.WorkflowsOfDeliveryAsync(third, null));

        // Changed: without spec.namespace its runs go to the global namespace again.
        await ReplaceSpecAsync(cluster, name, new JsonObject { ["repository"] = repo.FullName, ["params"] = new JsonObject { ["registry"] = "registry.other:5000" } });
        await ReadyAsync(cluster, name, generation: 2);
        await TakenInAsync(service, name, s => s["namespace"] is null && s["params"]?["registry"]?.GetValue<string>() == "registry.other:5000", "the changed spec");
        var fourth = await service.PushAsync(repo, manifest);
        await service.FinishedAsync(repo, 4);
        Assert.Equal("registry.other:5000", Annotation(Assert.Single(await cluster.WorkflowsOfDeliveryAsync(fourth, "ci")), "registry"));

        // Deleted: the global options again.
        await cluster.Admin.CustomObjects.DeleteNamespacedCustomObjectAsync(Group, Version, RealCluster.Namespace, Plural, name);
        await Eventually.UntilAsync(async () => (await AdminRepositoriesAsync(service)).All(r => r["resource"]!.GetValue<string>() != $"ci/{name}"),
            TimeSpan.FromSeconds(20), "the service forgot the deleted Repository");
        var fifth = await service.PushAsync(repo, manifest);
        await service.FinishedAsync(repo, 5);
        Assert.Equal("{{ registry }}", Annotation(Assert.Single(await cluster.WorkflowsOfDeliveryAsync(fifth, "ci")), "registry"));
    }

    [Fact]
    public async Task A_spec_the_schema_refuses_never_exists_and_one_the_service_cannot_use_or_a_second_claim_is_reported_not_ready()
    {
        var cluster = await fixture.GetAsync();
        await using var service = await RealClusterService.StartAsync(cluster);
        var repo = service.NewRepo();
        var suffix = Guid.NewGuid().ToString("N")[..8];

        // The structural schema: the API server itself refuses a limit of 0 and an unknown association.
        foreach (var bad in new[] { new JsonObject { ["repository"] = repo.FullName, ["concurrencyLimit"] = 0 }, new JsonObject { ["repository"] = repo.FullName, ["trustedAssociations"] = new JsonArray("ROOT") } })
        {
            var refused = await Assert.ThrowsAsync<HttpOperationException>(() => CreateAsync(cluster, "bad-" + suffix, bad));
            Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.Response.StatusCode);
        }

        // Valid to the schema, unusable to the service: a namespace it does not apply to.
        await CreateAsync(cluster, "elsewhere-" + suffix, new JsonObject { ["repository"] = repo.FullName, ["namespace"] = "kube-system" });
        var invalid = await ReadyAsync(cluster, "elsewhere-" + suffix, generation: 1);
        Assert.Equal(("False", "InvalidSpec"), (invalid["status"]!.GetValue<string>(), invalid["reason"]!.GetValue<string>()));
        Assert.Contains("spec.namespace 'kube-system' is not a namespace the service applies to", invalid["message"]!.GetValue<string>(), StringComparison.Ordinal);

        // Two claims: the older keeps the repository, the newer says who has it; deleting the older hands it over.
        await CreateAsync(cluster, "first-" + suffix, new JsonObject { ["repository"] = repo.FullName, ["cancelSuperseded"] = true });
        Assert.Equal("True", (await ReadyAsync(cluster, "first-" + suffix, generation: 1))["status"]!.GetValue<string>());
        // Created in the same second or later, and named after the first: the first is older or wins the tie either way.
        await CreateAsync(cluster, "second-" + suffix, new JsonObject { ["repository"] = repo.FullName, ["concurrencyLimit"] = 3 });
        var duplicate = await ReadyAsync(cluster, "second-" + suffix, generation: 1);
        Assert.Equal(("False", "Duplicate"), (duplicate["status"]!.GetValue<string>(), duplicate["reason"]!.GetValue<string>()));
        Assert.Contains($"already configured by the older Repository ci/first-{suffix}", duplicate["message"]!.GetValue<string>(), StringComparison.Ordinal);

        await cluster.Admin.CustomObjects.DeleteNamespacedCustomObjectAsync(Group, Version, RealCluster.Namespace, Plural, "first-" + suffix);
        await Eventually.UntilAsync(async () => (await ConditionAsync(cluster, "second-" + suffix))?["status"]?.GetValue<string>() == "True",
            TimeSpan.FromSeconds(20), "the second claim became ready once the first was deleted");
        await TakenInAsync(service, "second-" + suffix, s => s["concurrencyLimit"]?.GetValue<int>() == 3, "the second claim's settings");
    }

    /// <summary>A namespace of the test's own, granted to the service as k8s/examples/team-namespace.yaml grants team-a.</summary>
    private static async Task<string> TeamNamespaceAsync(RealCluster cluster)
    {
        var team = "team-" + Guid.NewGuid().ToString("N")[..8];
        var text = (await File.ReadAllTextAsync(Path.Combine(RepositoryFiles.Root, "k8s", "examples", "team-namespace.yaml"))).Replace("team-a", team, StringComparison.Ordinal);
        var directory = Directory.CreateTempSubdirectory("citrigger-team-").FullName;
        var file = Path.Combine(directory, "team.yaml");
        await File.WriteAllTextAsync(file, text);
        var kubeconfig = cluster.WriteKubeConfig(directory, cluster.Server.AdminToken);
        var (code, output) = await RealCluster.KubectlAsync(kubeconfig, "apply", "-f", file);
        Assert.True(code == 0, output);
        return team;
    }

    private static Task CreateAsync(RealCluster cluster, string name, JsonObject spec) =>
        cluster.Admin.CustomObjects.CreateNamespacedCustomObjectAsync(new JsonObject
        {
            ["apiVersion"] = $"{Group}/{Version}",
            ["kind"] = "Repository",
            ["metadata"] = new JsonObject { ["name"] = name },
            ["spec"] = spec,
        }, Group, Version, RealCluster.Namespace, Plural);

    private static async Task ReplaceSpecAsync(RealCluster cluster, string name, JsonObject spec)
    {
        var current = JsonSerializer.SerializeToNode(await cluster.Admin.CustomObjects.GetNamespacedCustomObjectAsync(Group, Version, RealCluster.Namespace, Plural, name))!.AsObject();
        current["spec"] = spec;
        await cluster.Admin.CustomObjects.ReplaceNamespacedCustomObjectAsync(current, Group, Version, RealCluster.Namespace, Plural, name);
    }

    private static async Task<JsonObject?> ConditionAsync(RealCluster cluster, string name)
    {
        var obj = JsonSerializer.SerializeToNode(await cluster.Admin.CustomObjects.GetNamespacedCustomObjectAsync(Group, Version, RealCluster.Namespace, Plural, name))!;
        return obj["status"]?["conditions"]?.AsArray().FirstOrDefault(c => c!["type"]!.GetValue<string>() == "Ready")?.AsObject();
    }

    /// <summary>The Ready condition once the service has judged <paramref name="generation"/> of the object's spec.</summary>
    private static Task<JsonObject> ReadyAsync(RealCluster cluster, string name, long generation) =>
        Eventually.Until(async () => await ConditionAsync(cluster, name) is { } c && c["observedGeneration"]?.GetValue<long>() == generation ? c : null,
            TimeSpan.FromSeconds(20), $"the service wrote the Ready condition of generation {generation} of {name}");

    /// <summary>
    /// Waits until this test's service uses the object's current spec. The Ready condition does not say so: every service
    /// started against the shared cluster watches the same Repository objects and writes their status, so another test's
    /// service may have judged a change before this one saw it.
    /// </summary>
    private static Task TakenInAsync(RealClusterService service, string name, Func<JsonObject, bool> settings, string what) =>
        Eventually.UntilAsync(async () => (await AdminRepositoriesAsync(service)).Any(r =>
                r["resource"]!.GetValue<string>() == $"{RealCluster.Namespace}/{name}" && r["settings"] is JsonObject s && settings(s)),
            TimeSpan.FromSeconds(20), $"the service took in {what} of {name}");

    private static async Task<IReadOnlyList<JsonObject>> AdminRepositoriesAsync(RealClusterService service) =>
        [.. (await service.Service.Client.GetFromJsonAsync<JsonObject>("/admin/repositories"))!["repositories"]!.AsArray().Select(r => r!.AsObject())];

    private static string Annotation(JsonObject workflow, string key) => workflow["metadata"]!["annotations"]![key]!.GetValue<string>();
}
