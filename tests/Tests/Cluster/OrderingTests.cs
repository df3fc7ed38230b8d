using CiTrigger.Grains.Abstractions;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.Cluster;

public class OrderingTests
{
    private static HookEvent Push(string repo, string branch, string before, string after, string delivery) =>
        new(delivery, "push", "", repo, $"git://github.com/{repo}.git", $"git@github.com:{repo}.git", $"refs/heads/{branch}",
            after, before, "main", false, DateTimeOffset.UtcNow);

    [Fact]
    public async Task Events_of_one_ref_are_applied_in_order_while_other_refs_proceed()
    {
        await using var github = await FakeGitHubApi.StartAsync();
        await using var kubernetes = await FakeKubernetesApi.StartAsync();
        var repo = github.Repo("octo/ordering");
        var a = Enumerable.Range(1, 3).Select(_ => repo.Commit("a", ".ci/workflow.yaml", SampleManifest.Workflow)).ToList();
        var b = Enumerable.Range(1, 2).Select(_ => repo.Commit("b", ".ci/workflow.yaml", SampleManifest.Workflow)).ToList();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        kubernetes.Hold = r => r.Method == "POST" && r.Body.Contains(a[0], StringComparison.Ordinal) ? release.Task : Task.CompletedTask;

        await using var cluster = TestClusterHost.Build(github, kubernetes, silos: 2);
        await cluster.DeployAsync();
        var refA = cluster.Client.GetGrain<IRefGrain>(RefKey.For(ForgeNames.GitHub, repo.FullName, "refs/heads/a"));
        var refB = cluster.Client.GetGrain<IRefGrain>(RefKey.For(ForgeNames.GitHub, repo.FullName, "refs/heads/b"));
        await refA.Enqueue(Push(repo.FullName, "a", Payloads.ZeroSha, a[0], "a1"));
        await refA.Enqueue(Push(repo.FullName, "a", a[0], a[1], "a2"));
        await refA.Enqueue(Push(repo.FullName, "a", a[1], a[2], "a3"));
        await refB.Enqueue(Push(repo.FullName, "b", Payloads.ZeroSha, b[0], "b1"));
        await refB.Enqueue(Push(repo.FullName, "b", b[0], b[1], "b2"));

        IEnumerable<string> Revisions() => kubernetes.Applied.Select(r => r.Json["metadata"]!["annotations"]!["k8s-webhook-handler.io/revision"]!.GetValue<string>());
        await Eventually.Until(() => Revisions().Count(b.Contains) == 2, TimeSpan.FromSeconds(20), "ref b to finish while ref a is held");
        Assert.DoesNotContain(Revisions(), a.Contains);
        Assert.Equal("a1", (await refA.GetSnapshot()).InFlight);

        release.SetResult();
        await Eventually.Until(() => Revisions().Count(a.Contains) == 3, TimeSpan.FromSeconds(20), "ref a to finish");

        Assert.Equal(a, Revisions().Where(a.Contains));
        Assert.Equal(b, Revisions().Where(b.Contains));
        Assert.All((await refA.GetSnapshot()).History, h => Assert.Equal(Outcome.Applied, h.Outcome));
    }
}
