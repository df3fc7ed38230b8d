using System.Text.Json.Nodes;
using CiTrigger.Grains.Manifests;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.Deployment;

/// <summary>
/// What the example pipeline (<c>k8s/examples</c>) lets a repository's code reach. It ran an approved pull
/// request's Dockerfile in a pod whose token could delete any namespace in the cluster.
/// </summary>
public class ExampleRbacTests
{
    private static IReadOnlyList<JsonObject> Read(string file) =>
        ManifestReader.Read(File.ReadAllText(Path.Combine(RepositoryFiles.Root, "k8s", "examples", file)), ManifestLimits.Default);

    private static readonly Lazy<IReadOnlyList<JsonObject>> Rbac = new(() => Read("argo-rbac.yaml"));

    private static readonly Lazy<JsonObject> Workflow = new(() => Assert.Single(Read("ci-workflow.yaml")));

    private static JsonNode Spec => Workflow.Value["spec"]!;

    private static string Text(JsonNode? node, string name) => node?[name]?.GetValue<string>() ?? "";

    private static IEnumerable<string> Strings(JsonNode? list) => list?.AsArray().Select(n => n!.GetValue<string>()) ?? [];

    private static IEnumerable<JsonObject> OfKind(string kind) => Rbac.Value.Where(o => Text(o, "kind") == kind);

    /// <summary>The templates that run a pod (a container or a script), by name.</summary>
    private static Dictionary<string, JsonNode> PodTemplates() =>
        Spec["templates"]!.AsArray().Where(t => t!["container"] is not null || t!["script"] is not null).ToDictionary(t => Text(t, "name"), t => t!);

    /// <summary>Whether Argo gives the template's main container a token: the template's word, else the workflow's, else Kubernetes' default.</summary>
    private static bool MountsToken(JsonNode template) =>
        (template["automountServiceAccountToken"] ?? Spec["automountServiceAccountToken"])?.GetValue<bool>() ?? true;

    /// <summary>The rules bound to a ServiceAccount of namespace ci, with the namespace each applies in.</summary>
    private static List<(string Namespace, JsonNode Rule)> RulesOf(string serviceAccount) =>
        [.. OfKind("RoleBinding")
            .Where(b => b["subjects"]!.AsArray().Any(s => Text(s, "kind") == "ServiceAccount" && Text(s, "name") == serviceAccount && Text(s, "namespace") == "ci"))
            .SelectMany(b => OfKind(Text(b["roleRef"], "kind"))
                .Where(r => Text(r["metadata"], "name") == Text(b["roleRef"], "name") && Text(r["metadata"], "namespace") == Text(b["metadata"], "namespace"))
                .SelectMany(r => r["rules"]!.AsArray().Select(rule => (Text(b["metadata"], "namespace"), rule!))))];

    [Fact]
    public void The_example_rbac_grants_nothing_cluster_wide_and_nothing_on_namespaces_roles_or_secrets()
    {
        var rules = OfKind("Role").SelectMany(r => r["rules"]!.AsArray()).ToList();

        Assert.Empty(OfKind("ClusterRole"));
        Assert.Empty(OfKind("ClusterRoleBinding"));
        Assert.All(rules, rule =>
        {
            var resources = Strings(rule!["resources"]).ToList();
            Assert.DoesNotContain("*", resources.Concat(Strings(rule["verbs"])).Concat(Strings(rule["apiGroups"])));
            Assert.DoesNotContain(resources, r => r is "namespaces" or "secrets" or "roles" or "rolebindings" or "pods" or "pods/exec" or "serviceaccounts" or "serviceaccounts/token");
        });
    }

    [Fact]
    public void The_build_which_runs_the_repositorys_dockerfile_gets_no_kubernetes_token()
    {
        var templates = PodTemplates();
        var executor = Text(Spec["executor"], "serviceAccountName");

        Assert.False(MountsToken(templates["build"]), "the build step mounts a Kubernetes token");
        Assert.Equal(["deploy", "teardown"], templates.Where(t => MountsToken(t.Value)).Select(t => t.Key).Order(StringComparer.Ordinal));
        var executorToken = Assert.Single(OfKind("Secret"), s => Text(s, "type") == "kubernetes.io/service-account-token");

        // Without a token of their own Argo's executor containers need one of the executor's: Argo refuses
        // automountServiceAccountToken: false without it, and finds its token Secret by this name.
        Assert.Equal("ci-workflow", executor);
        Assert.Equal((executor + ".service-account-token", executor), (Text(executorToken["metadata"], "name"), Text(executorToken["metadata"]!["annotations"], "kubernetes.io/service-account.name")));
        Assert.NotEmpty(RulesOf(executor));
        Assert.All(RulesOf(executor), r => Assert.Equal(("ci", "workflowtaskresults"), (r.Namespace, string.Join(",", Strings(r.Rule["resources"])))));
    }

    [Fact]
    public void The_steps_that_hold_a_token_may_change_only_deployments_in_the_preview_namespace()
    {
        var templates = PodTemplates();
        var deployer = Text(templates["deploy"], "serviceAccountName");
        var rules = RulesOf(deployer);

        Assert.Equal("ci-deployer", deployer);
        Assert.Equal(deployer, Text(templates["teardown"], "serviceAccountName"));
        Assert.NotEmpty(rules);
        Assert.All(rules, r => Assert.Equal(("ci-preview", "apps", "deployments"),
            (r.Namespace, string.Join(",", Strings(r.Rule["apiGroups"])), string.Join(",", Strings(r.Rule["resources"])))));
        Assert.Contains(Rbac.Value, o => Text(o, "kind") == "Namespace" && Text(o["metadata"], "name") == "ci-preview");
    }
}
