using CiTrigger.Grains.GitHub;
using CiTrigger.Grains.Pipeline;
using Xunit;

namespace CiTrigger.Tests.Unit;

public class GitHubManifestSourceTests
{
    [Fact]
    public async Task A_repository_of_another_forge_is_refused_without_asking_github()
    {
        // No GitHub listens at this address: asking it would fail as transient, not as this permanent refusal.
        var client = new Octokit.GitHubClient(new Octokit.ProductHeaderValue("test"), new Uri("http://127.0.0.1:9/"));
        var source = new GitHubManifestSource(new GitHubAccess(client, TimeProvider.System));

        var refusal = await Assert.ThrowsAsync<ManifestException>(() =>
            source.GetAsync(new ManifestFile("gitlab", "group/app", ".ci/workflow.yaml", "main", null), TestContext.Current.CancellationToken));

        Assert.Equal("group/app is a repository of gitlab, which GitHub's manifest source does not read", refusal.Message);
    }
}
