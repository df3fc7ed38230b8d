using System.Text.Json.Nodes;
using CiTrigger.Grains.Manifests;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.Deployment;

/// <summary>
/// k8s/examples/team-namespace.yaml, which grants the service a team's namespace (docs/repositories.md): the same
/// run-related rules as the base Role in k8s/rbac.yaml, so a verb added there for runs is not forgotten here, and
/// nothing of what only the service's own namespace needs (Repository objects, the silo pods' watch and patch).
/// </summary>
public sealed class TeamNamespaceRbacTests
{
    private static IReadOnlyList<JsonObject> Read(params string[] path) =>
        ManifestReader.Read(File.ReadAllText(Path.Combine([RepositoryFiles.Root, "k8s", .. path])), ManifestLimits.Default);

    /// <summary>Each (group, resource) a Role grants, with its verbs.</summary>
    private static Dictionary<string, SortedSet<string>> Grants(JsonObject role)
    {
        var grants = new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        foreach (var rule in role["rules"]!.AsArray())
        {
            foreach (var group in rule!["apiGroups"]!.AsArray())
            {
                foreach (var resource in rule["resources"]!.AsArray())
                {
                    var key = $"{group!.GetValue<string>()}/{resource!.GetValue<string>()}";
                    if (!grants.TryGetValue(key, out var verbs))
                    {
                        grants[key] = verbs = new SortedSet<string>(StringComparer.Ordinal);
                    }

                    verbs.UnionWith(rule["verbs"]!.AsArray().Select(v => v!.GetValue<string>()));
                }
            }
        }

        return grants;
    }

    [Fact]
    public void The_team_role_grants_the_base_roles_run_rules_and_nothing_only_the_service_namespace_needs()
    {
        var team = Read("examples", "team-namespace.yaml");
        var teamRole = Assert.Single(team, o => o["kind"]!.GetValue<string>() == "Role");
        var baseRole = Assert.Single(Read("rbac.yaml"), o => o["kind"]!.GetValue<string>() == "Role");

        var expected = Grants(baseRole).Where(g => !g.Key.StartsWith("k8s-webhook-handler.io/", StringComparison.Ordinal))
            .ToDictionary(g => g.Key, g => g.Key == "/pods" ? new SortedSet<string>(g.Value.Intersect(["get", "list"]), StringComparer.Ordinal) : g.Value);
        var actual = Grants(teamRole);

        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        Assert.All(expected, g => Assert.Equal(g.Value, actual[g.Key]));
        Assert.Equal(["get", "list"], actual["/pods"]);

        var binding = Assert.Single(team, o => o["kind"]!.GetValue<string>() == "RoleBinding");
        var subject = Assert.Single(binding["subjects"]!.AsArray())!;
        Assert.Equal(("ServiceAccount", "k8s-webhook-handler", "ci"),
            (subject["kind"]!.GetValue<string>(), subject["name"]!.GetValue<string>(), subject["namespace"]!.GetValue<string>()));
        Assert.All(team.Where(o => o["kind"]!.GetValue<string>() != "Namespace"), o => Assert.Equal("team-a", o["metadata"]!["namespace"]!.GetValue<string>()));
    }
}
