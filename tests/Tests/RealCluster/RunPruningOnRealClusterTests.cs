using System.Diagnostics.Metrics;
using System.Text.Json;
using System.Text.Json.Nodes;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Kubernetes;
using CiTrigger.Grains.Manifests;
using CiTrigger.Grains.Pipeline;
using CiTrigger.Grains.Telemetry;
using CiTrigger.Tests.Support;
using k8s;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xunit;

namespace CiTrigger.Tests.RealCluster;

/// <summary>
/// keepRuns' deletions against kube-apiserver v1.20 with the service account's token, so with exactly the Role in k8s/:
/// a ref's finished Workflows, Jobs, PipelineRuns and TaskRuns beyond the newest ones are deleted (a Job in the
/// background, so it goes at once: orphaning its pods would leave it waiting for a garbage collector this cluster does
/// not run), a running one and another repository's stay. There is no controller: the test writes status through the
/// status subresource, as the kinds' controllers do.
/// </summary>
[Collection(PipelineRunWriters.Name)]
public sealed class RunPruningOnRealClusterTests(RealClusterFixture fixture)
{
    private const string Ref = "refs/heads/main";

    private static readonly (string Group, string Version, string Plural, string Kind)[] Kinds =
    [
        ("argoproj.io", "v1alpha1", "workflows", "Workflow"),
        ("batch", "v1", "jobs", "Job"),
        ("tekton.dev", "v1", "pipelineruns", "PipelineRun"),
        ("tekton.dev", "v1", "taskruns", "TaskRun"),
    ];

    private static string Id() => Guid.NewGuid().ToString("N")[..8];

    /// <summary>A run object of <paramref name="repository"/>'s main as the service applies it, labelled with <paramref name="refKey"/>'s hash.</summary>
    private static JsonObject RunObject(string kind, string name, string repository, string refKey) => new()
    {
        ["apiVersion"] = Resource(kind).Group + "/" + Resource(kind).Version,
        ["kind"] = kind,
        ["metadata"] = new JsonObject
        {
            ["name"] = name,
            ["labels"] = new JsonObject
            {
                ["k8s-webhook-handler.io/delivery"] = "d-" + name,
                ["k8s-webhook-handler.io/ref-hash"] = ManifestAnnotator.RefLabelValue(refKey),
            },
            ["annotations"] = new JsonObject
            {
                ["k8s-webhook-handler.io/delivery"] = "d-" + name,
                ["k8s-webhook-handler.io/repo_name"] = repository,
                ["k8s-webhook-handler.io/ref"] = Ref,
            },
        },
        ["spec"] = kind switch
        {
            "Job" => JsonNode.Parse("""{"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"build","image":"busybox"}]}}}"""),
            "Workflow" => new JsonObject { ["entrypoint"] = "main" },
            _ => new JsonObject(),
        },
    };

    private static (string Group, string Version, string Plural, string Kind) Resource(string kind) => Kinds.Single(k => k.Kind == kind);

    /// <summary>Creates the object as the service would have, then writes the status its controller writes for a finished run (or none).</summary>
    private static async Task CreateAsync(RealCluster cluster, JsonObject obj, bool finished)
    {
        var (group, version, plural, kind) = Resource(obj["kind"]!.GetValue<string>());
        var name = obj["metadata"]!["name"]!.GetValue<string>();
        await cluster.Admin.CustomObjects.CreateNamespacedCustomObjectAsync(obj, group, version, RealCluster.Namespace, plural);
        var status = (kind, finished) switch
        {
            (_, false) => null,
            ("Workflow", _) => """{"phase":"Succeeded"}""",
            ("Job", _) => """{"succeeded":1,"conditions":[{"type":"Complete","status":"True","lastProbeTime":"2026-12-07T10:00:00Z","lastTransitionTime":"2026-12-07T10:00:00Z"}]}""",
            _ => """{"conditions":[{"type":"Succeeded","status":"True","reason":"Succeeded"}]}""",
        };
        if (status is not null)
        {
            await cluster.Admin.CustomObjects.PatchNamespacedCustomObjectStatusAsync(new V1Patch(JsonNode.Parse($$"""{"status":{{status}}}""")!, V1Patch.PatchType.MergePatch),
                group, version, RealCluster.Namespace, plural, name);
        }
    }

    /// <summary>A pruner built the way AddKubernetes builds it, with the rights of <paramref name="client"/>'s token.</summary>
    private static KubernetesRunPruner Pruner(k8s.Kubernetes client, ServiceProvider meters)
    {
        var options = Options.Create(new KubernetesOptions());
        return new KubernetesRunPruner(client, new ApiDiscovery(client, options, TimeProvider.System), Options.Create(new ManifestOptions()),
            new TriggerMetrics(meters.GetRequiredService<IMeterFactory>()), new ListLogger<KubernetesRunPruner>());
    }

    /// <summary>The names of the objects of every run kind in ci that carry <paramref name="refKey"/>'s label, as the administrator lists them.</summary>
    private static async Task<string[]> LabelledAsync(RealCluster cluster, string refKey)
    {
        var names = new List<string>();
        foreach (var (group, version, plural, _) in Kinds)
        {
            var list = await cluster.Admin.CustomObjects.ListNamespacedCustomObjectAsync(group, version, RealCluster.Namespace, plural,
                labelSelector: $"k8s-webhook-handler.io/ref-hash={ManifestAnnotator.RefLabelValue(refKey)}");
            names.AddRange(JsonSerializer.SerializeToNode(list)!["items"]!.AsArray().Select(i => i!["metadata"]!["name"]!.GetValue<string>()));
        }

        return [.. names.Order(StringComparer.Ordinal)];
    }

    [Fact]
    public async Task The_shipped_role_lets_the_service_delete_a_refs_finished_runs_of_every_kind_beyond_those_kept()
    {
        var cluster = await fixture.GetAsync();
        var id = Id();
        var repository = $"octo/prune-{id}";
        var key = RefKey.For(ForgeNames.GitHub, repository, Ref);
        // Created in name order, so objects of one second are ordered as they were created.
        (string Kind, string Name, bool Finished)[] runs =
        [
            ("Workflow", $"a-{id}", true), ("Job", $"b-{id}", true), ("PipelineRun", $"c-{id}", true), ("TaskRun", $"d-{id}", true),
            ("Workflow", $"e-{id}", false), ("Job", $"f-{id}", true), ("Workflow", $"g-{id}", true),
        ];
        // Another repository's finished Workflow, older than all, with this ref's label (as a hash collision would give it).
        await CreateAsync(cluster, RunObject("Workflow", $"0-theirs-{id}", $"octo/other-{id}", key), finished: true);
        foreach (var (kind, name, finished) in runs)
        {
            await CreateAsync(cluster, RunObject(kind, name, repository, key), finished);
        }

        using var client = new k8s.Kubernetes(RealCluster.Configuration(cluster.Server, cluster.ServiceAccountToken));
        using var meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var deleted = await Pruner(client, meters)
            .PruneAsync(new RunPrune(key, null, [RealCluster.Namespace], 2, []), CancellationToken.None);

        Assert.Equal([("Job", $"b-{id}"), ("PipelineRun", $"c-{id}"), ("TaskRun", $"d-{id}"), ("Workflow", $"a-{id}")],
            deleted.Select(d => (d.Kind, d.Name)).Order());
        // The Job went at once: deleted in the background, not left for a garbage collector to orphan its pods.
        Assert.Equal([$"0-theirs-{id}", $"e-{id}", $"f-{id}", $"g-{id}"], await LabelledAsync(cluster, key));
    }

    [Fact]
    public async Task A_service_account_without_the_rights_is_told_which_rule_to_add()
    {
        var cluster = await fixture.GetAsync();
        var account = "no-prune-" + Id();
        await cluster.Admin.CoreV1.CreateNamespacedServiceAccountAsync(new V1ServiceAccount { Metadata = new V1ObjectMeta { Name = account } }, RealCluster.Namespace);
        var token = await RealCluster.TokenAsync(cluster.Admin, account);
        using var client = new k8s.Kubernetes(RealCluster.Configuration(cluster.Server, token));
        using var meters = new ServiceCollection().AddMetrics().BuildServiceProvider();

        var refused = await Assert.ThrowsAsync<PermanentException>(() => Pruner(client, meters)
            .PruneAsync(new RunPrune(RefKey.For(ForgeNames.GitHub, "octo/refused", Ref), null, [RealCluster.Namespace], 1, []), CancellationToken.None));

        Assert.Contains("the service account may not list workflows in ci: extend the Role in k8s/ (rbac.yaml) with {apiGroups: [\"argoproj.io\"], resources: [\"workflows\"], verbs: [\"delete\", \"list\"]}",
            refused.Message, StringComparison.Ordinal);
    }
}
