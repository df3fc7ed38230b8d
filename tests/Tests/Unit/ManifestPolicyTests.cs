using System.Text.Json.Nodes;
using CiTrigger.Grains.Manifests;
using CiTrigger.Grains.Pipeline;
using Xunit;

namespace CiTrigger.Tests.Unit;

public class ManifestPolicyTests
{
    private static ManifestPolicy Policy(bool allowClusterScoped = false) =>
        new(new ManifestOptions { Namespace = "ci", AllowedNamespaces = "ci-extra, builds", AllowClusterScoped = allowClusterScoped });

    private static JsonObject Document(string json) => JsonNode.Parse(json)!.AsObject();

    private static string Refusal(Action check) => Assert.Throws<ManifestException>(check).Message;

    [Fact]
    public void A_namespaced_object_without_a_namespace_goes_into_the_handlers_namespace()
    {
        var document = Document("""{"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "ci-"}}""");

        var identity = Policy().Check(document, 0, namespaced: true);

        Assert.Equal(new ObjectRef("argoproj.io/v1alpha1", "Workflow", "ci", null, "ci-"), identity);
        Assert.Equal("ci", document["metadata"]!["namespace"]!.GetValue<string>());
    }

    [Fact]
    public void A_kind_the_cluster_did_not_describe_is_treated_as_namespaced()
    {
        var document = Document("""{"apiVersion": "example.com/v1", "kind": "Unknown", "metadata": {"name": "x"}}""");

        var identity = Policy(allowClusterScoped: true).Check(document, 0, namespaced: null);

        Assert.Equal("ci", identity.Namespace);
        Assert.Equal("ci", document["metadata"]!["namespace"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("ci")]
    [InlineData("ci-extra")]
    [InlineData("builds")]
    public void A_namespace_the_configuration_allows_is_kept(string ns)
    {
        var document = Document($$$"""{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "{{{ns}}}"}}""");

        var identity = Policy().Check(document, 0, namespaced: true);

        Assert.Equal(new ObjectRef("v1", "ConfigMap", ns, "settings", null), identity);
        Assert.Equal(ns, document["metadata"]!["namespace"]!.GetValue<string>());
    }

    [Fact]
    public void Any_other_namespace_is_refused_naming_the_document_and_the_allowed_ones()
    {
        var document = Document("""{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "token", "namespace": "kube-system"}}""");

        var message = Refusal(() => Policy().Check(document, 2, namespaced: true));

        Assert.StartsWith("document 2 (Secret) names namespace 'kube-system'; only ", message, StringComparison.Ordinal);
        Assert.All(["'ci'", "'ci-extra'", "'builds'"], ns => Assert.Contains(ns, message, StringComparison.Ordinal));
    }

    [Fact]
    public void A_cluster_scoped_object_is_refused_unless_configuration_allows_it()
    {
        var document = Document("""{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "admin"}}""");

        var message = Refusal(() => Policy().Check(document, 1, namespaced: false));

        Assert.Equal("document 1 is a cluster-scoped ClusterRole; refused (set Handler:AllowClusterScoped to allow)", message);
        Assert.Null(document["metadata"]!["namespace"]);
    }

    [Fact]
    public void An_allowed_cluster_scoped_object_gets_no_namespace()
    {
        var document = Document("""{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "admin"}}""");

        var identity = Policy(allowClusterScoped: true).Check(document, 0, namespaced: false);

        Assert.Equal(new ObjectRef("rbac.authorization.k8s.io/v1", "ClusterRole", null, "admin", null), identity);
        Assert.Null(document["metadata"]!["namespace"]);
    }

    [Theory]
    [InlineData("""{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}""", "document 0 (ConfigMap) needs metadata.name or metadata.generateName")]
    [InlineData("""{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"labels": {"a": "b"}}}""", "document 0 (ConfigMap) needs metadata.name or metadata.generateName")]
    [InlineData("""{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": ""}}""", "document 0 has a metadata.name that is not a non-empty string")]
    [InlineData("""{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": 42}}""", "document 0 has a metadata.name that is not a non-empty string")]
    [InlineData("""{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": ["ci-"]}}""", "document 0 has a metadata.generateName that is not a non-empty string")]
    [InlineData("""{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": 7}}""", "document 0 has a metadata.namespace that is not a non-empty string")]
    [InlineData("""{"kind": "ConfigMap", "metadata": {"name": "a"}}""", "document 0 has no apiVersion")]
    [InlineData("""{"apiVersion": "v1", "metadata": {"name": "a"}}""", "document 0 has no kind")]
    [InlineData("""{"apiVersion": "v1", "kind": "ConfigMap"}""", "document 0 has no metadata")]
    [InlineData("""{"apiVersion": "v1", "kind": "ConfigMap", "metadata": "a"}""", "document 0 has no metadata")]
    public void A_document_without_a_usable_identity_is_refused_with_what_is_missing(string json, string expected)
    {
        Assert.Equal(expected, Refusal(() => Policy().Check(Document(json), 0, namespaced: true)));
    }

    [Fact]
    public void A_name_is_enough_and_so_is_a_generate_name()
    {
        Assert.Equal("a", Policy().Check(Document("""{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}"""), 0, true).Name);
        Assert.Equal("ci-", Policy().Check(Document("""{"apiVersion": "v1", "kind": "Pod", "metadata": {"generateName": "ci-"}}"""), 0, true).GenerateName);
    }
}
