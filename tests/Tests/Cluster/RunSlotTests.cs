using CiTrigger.Grains.Abstractions;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.Cluster;

/// <summary>
/// The repository grain's run slots on a two-silo test cluster, asked directly: granted in the order asked, kept by
/// a delivery that asks again, handed on by a release, and taken back from a delivery whose ref does not need it
/// (a release that never came).
/// </summary>
public sealed class RunSlotTests
{
    [Fact]
    public async Task Slots_go_in_the_order_asked_and_one_nobody_needs_is_taken_back()
    {
        await using var github = await FakeGitHubApi.StartAsync();
        await using var kubernetes = await FakeKubernetesApi.StartAsync();
        var repo = github.Repo("octo/slots");
        var head = repo.Commit("c", ".ci/workflow.yaml", SampleManifest.Workflow);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        kubernetes.Hold = r => r.Method == "POST" ? release.Task : Task.CompletedTask;
        await using var cluster = TestClusterHost.Build(github, kubernetes, silos: 2);
        await cluster.DeployAsync();
        var repository = cluster.Client.GetGrain<IRepositoryGrain>("octo/slots");
        const string a = "octo/slots:refs/heads/a", b = "octo/slots:refs/heads/b", c = "octo/slots:refs/heads/c";

        Assert.True((await repository.AcquireRunSlot(a, "d1", 2)).Granted);
        Assert.True((await repository.AcquireRunSlot(a, "d1", 2)).Granted);
        Assert.True((await repository.AcquireRunSlot(b, "d2", 2)).Granted);

        // Ref c really has d3: queued, its apply held in flight.
        await cluster.Client.GetGrain<IRefGrain>(c).Enqueue(new HookEvent("d3", "push", "", repo.FullName, $"git://github.com/{repo.FullName}.git",
            $"git@github.com:{repo.FullName}.git", "refs/heads/c", head, Payloads.ZeroSha, "main", false, DateTimeOffset.UtcNow));

        // Full (the limit is now 1): the holders' refs are asked whether they need their slots. Refs a and b never heard
        // of d1 and d2 (their releases were "lost"), so both go and d3 gets one.
        Assert.Equal(new RunSlot(true, 0, 1, 1), await repository.AcquireRunSlot(c, "d3", 1));

        // Ref c still needs d3's: d4 waits, first in line.
        var fourth = await repository.AcquireRunSlot(b, "d4", 1);
        Assert.Equal((false, 1, 1), (fourth.Granted, fourth.Position, fourth.Running));
        var runs = await repository.GetRuns();
        Assert.Equal(1, runs.Limit);
        Assert.Equal(["d3"], runs.Running.Select(r => r.Delivery));
        Assert.Equal(["d4"], runs.Waiting.Select(w => w.Delivery));

        await repository.ReleaseRunSlot("d3");
        runs = await repository.GetRuns();
        Assert.Equal(["d4"], runs.Running.Select(r => r.Delivery));
        Assert.Empty(runs.Waiting);
        Assert.True((await repository.AcquireRunSlot(b, "d4", 1)).Granted);

        // A release of what holds nothing changes nothing.
        await repository.ReleaseRunSlot("unknown");
        Assert.Equal(["d4"], (await repository.GetRuns()).Running.Select(r => r.Delivery));
        release.SetResult();
    }
}
