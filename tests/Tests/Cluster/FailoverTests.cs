using CiTrigger.Grains.Abstractions;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.Cluster;

public class FailoverTests
{
    [Fact]
    public async Task When_the_silo_holding_a_ref_is_killed_the_survivor_finishes_its_queue_in_order()
    {
        await using var github = await FakeGitHubApi.StartAsync();
        await using var kubernetes = await FakeKubernetesApi.StartAsync();
        var repo = github.Repo("octo/failover");
        var revisions = Enumerable.Range(0, 4).Select(_ => repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow)).ToList();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        kubernetes.Hold = r => r.Method == "POST" ? release.Task : Task.CompletedTask;

        await using var cluster = TestClusterHost.Build(github, kubernetes, silos: 2);
        await cluster.DeployAsync();
        var key = RefKey.For(ForgeNames.GitHub, repo.FullName, "refs/heads/main");
        var grain = cluster.Client.GetGrain<IRefGrain>(key);
        for (var i = 0; i < revisions.Count; i++)
        {
            await grain.Enqueue(new HookEvent($"f{i}", "push", "", repo.FullName, "", "", "refs/heads/main",
                revisions[i], i == 0 ? Payloads.ZeroSha : revisions[i - 1], "main", false, DateTimeOffset.UtcNow));
        }

        await Eventually.Until(() => kubernetes.Held == 1, TimeSpan.FromSeconds(20), "the first create in flight");
        Assert.True(cluster.TryGetGrainContext(grain.GetGrainId(), out var context));
        var holder = cluster.GetSiloForAddress(context!.Address.SiloAddress!)!;
        await cluster.KillSiloAsync(holder);
        release.SetResult();

        // No call reaches the ref until its queue is done: its reminder alone brings it back on the survivor.
        await Eventually.Until(() => kubernetes.Creations.Count == revisions.Count, TimeSpan.FromSeconds(60), "the survivor to finish the queue");

        AppliedOnce.InOrder(kubernetes, new Dictionary<string, IReadOnlyList<string>> { ["refs/heads/main"] = revisions });

        // The fake records the last create before the ref has its answer and has written its state.
        var snapshot = await Eventually.Until(async () => await grain.GetSnapshot() is { Queue.Count: 0 } done ? done : null,
            TimeSpan.FromSeconds(20), "the ref to record its last event");
        Assert.Equal(revisions.Count, snapshot.History.Count);
    }
}
