using CiTrigger.Grains.Kubernetes;
using CiTrigger.Grains.Manifests;
using Xunit;

namespace CiTrigger.Tests.Unit;

public class ApiRefusalTests
{
    private static readonly ApiResource ConfigMaps = new("", "v1", "configmaps", "ConfigMap", Namespaced: true);

    private static ApiAccess Access(string? ns, string? name = "settings", string? generateName = null) =>
        new(name is null ? "create" : "patch", ConfigMaps, new ObjectRef("v1", "ConfigMap", ns, name, generateName));

    [Theory]
    [InlineData("ci", "the service account may not patch configmaps in ci: extend the Role in k8s/ (rbac.yaml) with {apiGroups: [\"\"], resources: [\"configmaps\"], verbs: [\"create\", \"get\", \"patch\"]}")]
    [InlineData("team-b", "the service account may not patch configmaps in team-b: grant it a Role in team-b with {apiGroups: [\"\"], resources: [\"configmaps\"], verbs: [\"create\", \"get\", \"patch\"]}, bound like the RoleBinding in k8s/ (rbac.yaml)")]
    [InlineData(null, "the service account may not patch configmaps cluster-wide: grant it a ClusterRole with {apiGroups: [\"\"], resources: [\"configmaps\"], verbs: [\"create\", \"get\", \"patch\"]}")]
    public void A_403_names_the_rule_to_add_where_it_belongs(string? ns, string expected)
    {
        var message = ApiRefusal.Forbidden("forbidden", Access(ns), homeNamespace: "ci");

        Assert.Equal(expected + " (forbidden)", message);
    }

    [Fact]
    public void The_verb_the_server_refused_wins_over_the_one_the_applier_sent()
    {
        const string server = "configmaps \"x\" is forbidden: User \"system:serviceaccount:ci:k8s-webhook-handler\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"ci\"";

        var message = ApiRefusal.Forbidden(server, Access("ci", name: null, generateName: "x-"), homeNamespace: "ci");

        Assert.StartsWith("the service account may not list configmaps in ci: extend the Role in k8s/ (rbac.yaml) with {apiGroups: [\"\"], resources: [\"configmaps\"], verbs: [\"create\", \"list\"]}", message, StringComparison.Ordinal);
        Assert.EndsWith($"({server})", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("404 page not found\n", true)]
    [InlineData("""{"kind":"Status","status":"Failure","message":"the server could not find the requested resource","reason":"NotFound","details":{},"code":404}""", true)]
    [InlineData("""{"kind":"Status","status":"Failure","message":"namespaces \"x\" not found","reason":"NotFound","details":{"name":"x","kind":"namespaces"},"code":404}""", false)]
    [InlineData("""{"kind":"Status","status":"Failure","message":"workflows.argoproj.io \"w\" not found","reason":"NotFound","details":{"name":"w","group":"argoproj.io","kind":"workflows"},"code":404}""", false)]
    public void A_404_that_names_no_object_means_the_resource_is_not_served(string body, bool notServed) =>
        Assert.Equal(notServed, ApiRefusal.IsResourceNotServed(body));
}
