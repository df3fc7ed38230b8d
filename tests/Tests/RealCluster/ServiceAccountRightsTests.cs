using CiTrigger.Tests.Fakes;
using CiTrigger.Grains.Kubernetes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Xunit;

namespace CiTrigger.Tests.RealCluster;

/// <summary>
/// The Role in k8s/ against a real RBAC authorizer: enough for everything the service does (the other
/// real-cluster tests run with nothing else), nothing beyond it, and a refusal a user can act on.
/// </summary>
public sealed class ServiceAccountRightsTests(RealClusterServiceFixture fixture) : IClassFixture<RealClusterServiceFixture>
{
    /// <summary>What Orleans' Kubernetes hosting does with the silo pods.</summary>
    private static readonly string[] PodVerbs = ["get", "list", "watch", "patch"];

    private RealClusterService Service => fixture.Service;

    private RealCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task Kubectl_auth_can_i_allows_the_verbs_the_service_uses_and_denies_anything_wider()
    {
        var kubeconfig = Cluster.WriteKubeConfig(Directory.CreateTempSubdirectory("citrigger-cani-").FullName, Cluster.ServiceAccountToken);
        // Workflows are a run kind: one with a fixed metadata.name is refused, so only the verbs of documents with generateName are needed.
        var needed = KubernetesManifestApplier.VerbsFor(named: false)
            .Select(verb => (verb, "workflows.argoproj.io", "ci"))
            .Concat(PodVerbs.Select(verb => (verb, "pods", "ci")))
            .Concat(RunKinds.All.SelectMany(k => k.Verbs.Select(verb => (verb, k.Group.Length == 0 ? k.Plural : $"{k.Plural}.{k.Group}", "ci"))))
            // Why a run failed: the failed container's log, and the Secrets its pod uses, to mask their values.
            .Concat(new (string verb, string, string)[] { ("get", "pods/log", "ci"), ("get", "secrets", "ci") })
            // The runs' Git credential Secrets: created, refreshed and owned (patch), deleted.
            .Concat(KubernetesRunSecrets.Verbs.Select(verb => (verb, "secrets", "ci")))
            // Repository resources: listed and watched (their Ready condition is written through the status subresource,
            // which RepositoryResourceTests sees the service do with this Role).
            .Concat(new (string verb, string, string)[] { ("list", "repositories.k8s-webhook-handler.io", "ci"), ("watch", "repositories.k8s-webhook-handler.io", "ci") });
        (string Verb, string Resource, string Namespace)[] wider =
        [
            ("get", "workflows.argoproj.io", "ci"), ("get", "jobs.batch", "ci"), ("get", "pipelineruns.tekton.dev", "ci"),
            ("update", "workflows.argoproj.io", "ci"), ("deletecollection", "workflows.argoproj.io", "ci"), ("delete", "workflows.argoproj.io", "default"),
            ("create", "jobs.batch", "ci"), ("patch", "jobs.batch", "ci"), ("deletecollection", "jobs.batch", "ci"), ("list", "jobs.batch", "default"),
            ("create", "pipelineruns.tekton.dev", "ci"), ("deletecollection", "pipelineruns.tekton.dev", "ci"), ("deletecollection", "taskruns.tekton.dev", "ci"),
            ("delete", "taskruns.tekton.dev", "default"),
            ("watch", "workflows.argoproj.io", "default"), ("patch", "pipelineruns.tekton.dev", "default"),
            ("create", "workflows.argoproj.io", "default"), ("list", "workflows.argoproj.io", "kube-system"),
            ("create", "configmaps", "ci"), ("list", "secrets", "ci"), ("watch", "secrets", "ci"), ("get", "secrets", "default"), ("get", "pods/log", "default"),
            ("update", "secrets", "ci"), ("deletecollection", "secrets", "ci"), ("create", "secrets", "default"), ("delete", "secrets", "default"), ("patch", "secrets", "kube-system"),
            ("create", "pods", "ci"), ("delete", "pods", "ci"), ("create", "pods/exec", "ci"),
            ("create", "roles.rbac.authorization.k8s.io", "ci"), ("create", "rolebindings.rbac.authorization.k8s.io", "ci"),
            ("create", "serviceaccounts/token", "ci"), ("list", "namespaces", ""), ("create", "customresourcedefinitions.apiextensions.k8s.io", ""),
            ("create", "repositories.k8s-webhook-handler.io", "ci"), ("patch", "repositories.k8s-webhook-handler.io", "ci"), ("delete", "repositories.k8s-webhook-handler.io", "ci"),
            ("get", "repositories.k8s-webhook-handler.io", "ci"), ("list", "repositories.k8s-webhook-handler.io", "default"),
        ];

        var answers = new List<string>();
        foreach (var (verb, resource, ns, expected) in needed.Select(n => (n.verb, n.Item2, n.Item3, "yes")).Concat(wider.Select(w => (w.Verb, w.Resource, w.Namespace, "no"))))
        {
            var scope = ns.Length > 0 ? ["-n", ns] : new[] { "--all-namespaces" };
            var (_, output) = await RealCluster.KubectlAsync(kubeconfig, ["auth", "can-i", verb, resource, .. scope]);
            if (output.Split('\n')[0].Trim() != expected)
            {
                answers.Add($"can-i {verb} {resource} in '{ns}': expected {expected}, got {output}");
            }
        }

        Assert.Empty(answers);
    }

    [Fact]
    public async Task A_manifest_with_a_kind_the_role_does_not_grant_fails_with_the_role_rule_to_add()
    {
        var repo = Service.NewRepo();
        var configMap = "settings-" + Guid.NewGuid().ToString("N")[..8];
        var manifest = $"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {configMap}\ndata:\n  mode: release\n---\n{SampleManifest.Workflow}";

        var delivery = await Service.PushAsync(repo, manifest);
        var state = await Service.FinishedAsync(repo);

        var entry = state["history"]![0]!;
        Assert.Equal("failed", entry["outcome"]!.GetValue<string>());
        Assert.Single(entry["attempts"]!.AsArray());
        var error = entry["error"]!.GetValue<string>();
        // The owner check reads the named object first, so get is the verb the server refuses.
        Assert.Contains("the service account may not get configmaps in ci: extend the Role in k8s/", error, StringComparison.Ordinal);
        Assert.Contains("{apiGroups: [\"\"], resources: [\"configmaps\"], verbs: [\"create\", \"get\", \"patch\"]}", error, StringComparison.Ordinal);
        Assert.Contains("system:serviceaccount:ci:k8s-webhook-handler", error, StringComparison.Ordinal);
        Assert.Empty(await Cluster.WorkflowsOfDeliveryAsync(delivery));
        var missing = await Assert.ThrowsAsync<HttpOperationException>(() => Cluster.Admin.CoreV1.ReadNamespacedConfigMapAsync(configMap, RealCluster.Namespace));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, missing.Response.StatusCode);
    }

    [Fact]
    public async Task A_namespace_the_configuration_allows_but_the_role_does_not_cover_is_refused_by_the_server_with_the_rule_to_add()
    {
        const string extra = "ci-extra";
        try
        {
            await Cluster.Admin.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = extra } });
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.Conflict)
        {
            // Created by an earlier test of this run.
        }

        await using var service = await RealClusterService.StartAsync(Cluster, settings: new Dictionary<string, string> { ["Handler:AllowedNamespaces"] = extra });
        var repo = service.NewRepo();
        var manifest = SampleManifest.Workflow.Replace("  generateName: ci-", $"  generateName: ci-\n  namespace: {extra}", StringComparison.Ordinal);

        var delivery = await service.PushAsync(repo, manifest);
        var state = await service.FinishedAsync(repo);

        var entry = state["history"]![0]!;
        Assert.Equal("failed", entry["outcome"]!.GetValue<string>());
        Assert.Contains($"the service account may not create workflows in {extra}: grant it a Role in {extra} with {{apiGroups: [\"argoproj.io\"], resources: [\"workflows\"], verbs: [\"create\", \"list\"]}}", entry["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Empty(await Cluster.WorkflowsOfDeliveryAsync(delivery, @namespace: null));
    }
}
