using System.Text;
using System.Text.Json.Nodes;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Manifests;
using Xunit;

namespace CiTrigger.Tests.Unit;

public class ManifestParametersTests
{
    private static HookEvent Push(string gitRef) => new(
        "d-1", "push", "", "octo/app", "git://github.com/octo/app.git", "git@github.com:octo/app.git", gitRef,
        new string('a', 40), new string('b', 40), "main", false, DateTimeOffset.UnixEpoch);

    private static JsonObject Substituted(string yaml, HookEvent e, IReadOnlyDictionary<string, string>? extra = null)
    {
        var documents = ManifestReader.Read(Encoding.UTF8.GetBytes(yaml), new ManifestOptions().Limits);
        return ManifestAnnotator.Annotate(documents[0], e, 0, ManifestParameters.For(e, ".ci/workflow.yaml", extra));
    }

    [Fact]
    public void The_values_are_the_events_and_branch_and_tag_are_empty_where_the_ref_is_neither()
    {
        var push = ManifestParameters.For(Push("refs/heads/feature/x"), ".ci/workflow.yaml");
        Assert.Equal(("feature/x", "", "workflow", "", new string('a', 40)), (push["branch"], push["tag"], push["pipeline"], push["pull_request"], push["revision"]));

        var tag = ManifestParameters.For(Push("refs/tags/v1.2"), ".ci/release.yml");
        Assert.Equal(("", "v1.2", "release"), (tag["branch"], tag["tag"], tag["pipeline"]));

        var pullRequest = ManifestParameters.For(Push("refs/pull/7/head") with { EventType = "pull_request", Action = "opened", PullRequest = 7, BaseRef = "refs/heads/main", HeadRepoUrl = "https://github.com/fork/app.git" }, ".ci/workflow.yaml");
        Assert.Equal(("main", "7", "refs/heads/main", "https://github.com/fork/app.git", "opened"),
            (pullRequest["branch"], pullRequest["pull_request"], pullRequest["base_ref"], pullRequest["head_repo_url"], pullRequest["event_action"]));
        Assert.Equal(ManifestParameters.Names.Where(n => n != "git_auth_secret").Order(StringComparer.Ordinal), push.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void The_git_auth_secret_is_replaced_and_annotated_only_when_the_event_has_one()
    {
        const string Yaml = """
            apiVersion: batch/v1
            kind: Job
            metadata:
              generateName: ci-
            spec:
              template:
                spec:
                  containers:
                    - name: build
                      env:
                        - name: GIT_PASSWORD
                          valueFrom:
                            secretKeyRef: {name: "{{ git_auth_secret }}", key: password}
            """;
        var e = Push("refs/heads/main");
        var document = ManifestReader.Read(Encoding.UTF8.GetBytes(Yaml), new ManifestOptions().Limits)[0];

        var with = ManifestAnnotator.Annotate(document, e, 0, ManifestParameters.For(e, ".ci/workflow.yaml", gitAuthSecret: "git-auth-0123456789abcdef0123"), gitAuthSecret: "git-auth-0123456789abcdef0123");
        var without = ManifestAnnotator.Annotate(document, e, 0, ManifestParameters.For(e, ".ci/workflow.yaml"));

        JsonNode? Reference(JsonObject d) => d["spec"]!["template"]!["spec"]!["containers"]![0]!["env"]![0]!["valueFrom"]!["secretKeyRef"]!["name"];
        Assert.Equal("git-auth-0123456789abcdef0123", Reference(with)!.GetValue<string>());
        Assert.Equal("git-auth-0123456789abcdef0123", with["metadata"]!["annotations"]![ManifestAnnotator.GitAuthSecretAnnotation]!.GetValue<string>());
        Assert.Equal("{{ git_auth_secret }}", Reference(without)!.GetValue<string>());
        Assert.Null(without["metadata"]!["annotations"]![ManifestAnnotator.GitAuthSecretAnnotation]);
        Assert.Equal(ManifestParameters.Names.Order(StringComparer.Ordinal),
            ManifestParameters.For(e, ".ci/workflow.yaml", gitAuthSecret: "git-auth-0123456789abcdef0123").Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_branch_made_to_inject_yaml_stays_one_string_and_changes_no_structure()
    {
        var evil = "x\"\n  evil: true";
        var document = Substituted("""
            apiVersion: batch/v1
            kind: Job
            metadata:
              generateName: ci-
            spec:
              template:
                spec:
                  containers:
                    - name: build
                      args: ["{{ branch }}", "--rev={{revision}}"]
            """, Push("refs/heads/" + evil));

        var container = document["spec"]!["template"]!["spec"]!["containers"]![0]!.AsObject();
        Assert.Equal([evil, "--rev=" + new string('a', 40)], container["args"]!.AsArray().Select(a => a!.GetValue<string>()));
        Assert.Equal(["name", "args"], container.Select(p => p.Key));
        Assert.DoesNotContain("\"evil\":", document.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Argos_own_braces_unknown_names_keys_and_other_scalars_are_left_as_they_are()
    {
        var document = Substituted("""
            apiVersion: argoproj.io/v1alpha1
            kind: Workflow
            metadata:
              generateName: ci-
            spec:
              arguments:
                parameters:
                  - name: "{{ branch }}"
                    value: "{{workflow.name}} {{inputs.parameters.x}} {{item}} {{ git_auth_secret }} {{ Revision }} {{ revision }}"
              "{{ branch }}": key
              retries: 3
              suspend: false
            """, Push("refs/heads/main"));

        var spec = document["spec"]!;
        Assert.Equal("main", spec["arguments"]!["parameters"]![0]!["name"]!.GetValue<string>());
        Assert.Equal("{{workflow.name}} {{inputs.parameters.x}} {{item}} {{ git_auth_secret }} {{ Revision }} " + new string('a', 40),
            spec["arguments"]!["parameters"]![0]!["value"]!.GetValue<string>());
        Assert.Equal("key", spec["{{ branch }}"]!.GetValue<string>());
        Assert.Equal(3L, spec["retries"]!.GetValue<long>());
        Assert.False(spec["suspend"]!.GetValue<bool>());
    }

    [Fact]
    public void A_value_holding_a_parameter_is_not_replaced_again_and_annotations_are_never_replaced()
    {
        var e = Push("refs/heads/{{revision}}");
        var document = Substituted("""
            apiVersion: v1
            kind: ConfigMap
            metadata:
              generateName: ci-
            data:
              branch: "{{ branch }}"
            """, e);

        Assert.Equal("{{revision}}", document["data"]!["branch"]!.GetValue<string>());
        Assert.Equal("refs/heads/{{revision}}", document["metadata"]!["annotations"]!["k8s-webhook-handler.io/ref"]!.GetValue<string>());
    }

    [Fact]
    public void A_repositorys_params_add_names_of_their_own_and_never_replace_a_fixed_one()
    {
        var e = Push("refs/heads/main");
        var extra = new Dictionary<string, string> { ["registry"] = "registry.team-a:5000", ["cache_2"] = "c", ["revision"] = "forged" };
        var document = Substituted("""
            apiVersion: v1
            kind: ConfigMap
            metadata:
              generateName: ci-
            data:
              image: "{{ registry }}/app:{{ revision }}"
              cache: "{{cache_2}}"
              unknown: "{{ not_given }}"
            """, e, extra);

        Assert.Equal($"registry.team-a:5000/app:{new string('a', 40)}", document["data"]!["image"]!.GetValue<string>());
        Assert.Equal("c", document["data"]!["cache"]!.GetValue<string>());
        Assert.Equal("{{ not_given }}", document["data"]!["unknown"]!.GetValue<string>());
    }

    [Fact]
    public void Only_manifests_with_double_braces_are_walked()
    {
        Assert.True(ManifestParameters.MayMention("a: '{{ x }}'"u8));
        Assert.False(ManifestParameters.MayMention("a: '{ x }'"u8));
    }
}
