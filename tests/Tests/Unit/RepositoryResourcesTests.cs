using System.Text.Json;
using CiTrigger.Grains.Kubernetes;
using CiTrigger.Grains.Manifests;
using Xunit;

namespace CiTrigger.Tests.Unit;

/// <summary>What the service makes of Repository specs: each field read, each unusable spec named, a repository claimed twice settled.</summary>
public sealed class RepositoryResourcesTests
{
    private static readonly ManifestOptions Options = new() { Namespace = "ci", AllowedNamespaces = "team-a,team-b" };

    private static RepositoryResources.Seen Seen(string name, string spec, int minutesOld = 10, long generation = 1) =>
        new("ci", name, DateTimeOffset.Parse("2026-12-07T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture).AddMinutes(-minutesOld), generation,
            JsonDocument.Parse(spec).RootElement.Clone(), default);

    [Fact]
    public void A_full_spec_is_read_field_by_field()
    {
        var (settings, problem) = RepositoryResources.Read(Seen("app", """
            {"repository": "Octo/App", "namespace": "team-a", "pipelineDirectory": "ci/pipelines",
             "trustedAssociations": ["owner", "MEMBER"], "cancelSuperseded": true, "concurrencyLimit": 2,
             "params": {"registry": "registry.team-a:5000", "cache_bucket": "b1"}, "keepRuns": 5}
            """), Options);

        Assert.Null(problem);
        Assert.NotNull(settings);
        Assert.Equal("octo/app", settings.Repository);
        Assert.Equal("ci/app", settings.Resource);
        Assert.Equal("team-a", settings.Namespace);
        Assert.Equal("ci/pipelines", settings.PipelineDirectory);
        Assert.Equal(["OWNER", "MEMBER"], settings.TrustedAssociations!.Value);
        Assert.True(settings.CancelSuperseded);
        Assert.Equal(2, settings.ConcurrencyLimit);
        Assert.Equal(5, settings.KeepRuns);
        Assert.Equal(["cache_bucket", "registry"], settings.Params!.Keys);
        Assert.Equal("registry.team-a:5000", settings.Params["registry"]);
    }

    [Fact]
    public void A_spec_with_only_the_repository_leaves_every_option_global()
    {
        var (settings, problem) = RepositoryResources.Read(Seen("app", """{"repository": "octo/app"}"""), Options);

        Assert.Null(problem);
        Assert.Equal(new CiTrigger.Grains.Abstractions.RepositorySettings("octo/app", "ci/app"), settings);
    }

    [Theory]
    [InlineData("""{"namespace": "team-a"}""", "spec.repository must be a GitHub repository")]
    [InlineData("""{"repository": "no-slash"}""", "spec.repository must be a GitHub repository")]
    [InlineData("""{"repository": "octo/app", "namespace": "kube-system"}""", "spec.namespace 'kube-system' is not a namespace the service applies to")]
    [InlineData("""{"repository": "octo/app", "namespace": "Team_A"}""", "spec.namespace must be a namespace name")]
    [InlineData("""{"repository": "octo/app", "pipelineDirectory": "../other"}""", "spec.pipelineDirectory must be a relative directory")]
    [InlineData("""{"repository": "octo/app", "pipelineDirectory": "/etc"}""", "spec.pipelineDirectory must be a relative directory")]
    [InlineData("""{"repository": "octo/app", "pipelineDirectory": ".ci/"}""", "spec.pipelineDirectory must be a relative directory")]
    [InlineData("""{"repository": "octo/app", "trustedAssociations": ["ROOT"]}""", "spec.trustedAssociations: 'ROOT' is not an author_association")]
    [InlineData("""{"repository": "octo/app", "cancelSuperseded": "yes"}""", "spec.cancelSuperseded must be true or false")]
    [InlineData("""{"repository": "octo/app", "concurrencyLimit": 0}""", "spec.concurrencyLimit must be a whole number of at least 1")]
    [InlineData("""{"repository": "octo/app", "keepRuns": 1.5}""", "spec.keepRuns must be a whole number of at least 1")]
    [InlineData("""{"repository": "octo/app", "params": {"revision": "main"}}""", "spec.params: 'revision' is one of the fixed names")]
    [InlineData("""{"repository": "octo/app", "params": {"git_auth_secret": "mine"}}""", "spec.params: 'git_auth_secret' is one of the fixed names")]
    [InlineData("""{"repository": "octo/app", "params": {"Registry": "x"}}""", "spec.params: 'Registry' is no parameter name")]
    [InlineData("""{"repository": "octo/app", "params": {"registry": 5}}""", "spec.params: 'registry' must be a string")]
    public void An_unusable_spec_is_named_with_its_field(string spec, string expected)
    {
        var (settings, problem) = RepositoryResources.Read(Seen("app", spec), Options);

        Assert.Null(settings);
        Assert.StartsWith(expected, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Of_two_objects_claiming_one_repository_the_older_keeps_it_whatever_the_order_they_are_seen_in()
    {
        var older = Seen("team-a-app", """{"repository": "octo/app", "namespace": "team-a"}""", minutesOld: 30);
        var newer = Seen("team-b-app", """{"repository": "OCTO/app", "namespace": "team-b"}""", minutesOld: 5);

        foreach (var order in new[] { new[] { older, newer }, [newer, older] })
        {
            var (all, usable) = RepositoryResources.Evaluate(order, Options);

            Assert.Equal("team-a", usable["octo/app"].Namespace);
            var refused = Assert.Single(all, v => !v.Ready);
            Assert.Equal("ci/team-b-app", refused.Resource);
            Assert.Equal(RepositoryResources.Duplicate, refused.Reason);
            Assert.Contains("already configured by the older Repository ci/team-a-app", refused.Message, StringComparison.Ordinal);
            Assert.True(Assert.Single(all, v => v.Ready).Ready);
        }
    }

    [Fact]
    public void A_bad_spec_does_not_keep_a_good_one_of_another_repository_from_use()
    {
        var (all, usable) = RepositoryResources.Evaluate(
            [Seen("good", """{"repository": "octo/good"}"""), Seen("bad", """{"repository": "octo/bad", "namespace": "elsewhere"}""")], Options);

        Assert.Equal(["octo/good"], usable.Keys);
        Assert.Equal([("ci/bad", false, RepositoryResources.InvalidSpec), ("ci/good", true, RepositoryResources.Accepted)],
            all.Select(v => (v.Resource, v.Ready, v.Reason)));
    }
}
