using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Processing;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace CiTrigger.Tests.Cluster;

public class ReminderLifecycleTests
{
    [Fact]
    public async Task A_ref_holds_its_reminder_only_while_it_has_pending_work()
    {
        await using var github = await FakeGitHubApi.StartAsync();
        await using var kubernetes = await FakeKubernetesApi.StartAsync();
        var repo = github.Repo("octo/reminders");
        var revision = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        kubernetes.Hold = r => r.Method == "POST" ? release.Task : Task.CompletedTask;
        await using var cluster = TestClusterHost.Build(github, kubernetes, silos: 1);
        await cluster.DeployAsync();
        var table = cluster.GetSiloServiceProvider(cluster.Silos[0].SiloAddress).GetRequiredService<IReminderTable>();
        var grain = cluster.Client.GetGrain<IRefGrain>(RefKey.For(ForgeNames.GitHub, repo.FullName, "refs/heads/main"));
        async Task<bool> Holds() => (await table.ReadRows(grain.GetGrainId())).Reminders.Any(r => r.ReminderName == RefGrain.ReminderName);

        await grain.Enqueue(new HookEvent("r1", "push", "", repo.FullName, "", "", "refs/heads/main", revision, Payloads.ZeroSha, "main", false, DateTimeOffset.UtcNow));
        var whilePending = await Holds();
        release.SetResult();
        await Eventually.Until(() => kubernetes.Creations.Count == 1, TimeSpan.FromSeconds(20), "the event to be applied");
        await Eventually.Until(async () => await Holds() ? null : "released", TimeSpan.FromSeconds(20), "the reminder to be released once the queue is empty");

        Assert.True(whilePending);
        Assert.Empty((await grain.GetSnapshot()).Queue);
    }

    [Fact]
    public async Task A_ref_that_deactivates_with_an_empty_queue_leaves_no_reminder_behind()
    {
        await using var github = await FakeGitHubApi.StartAsync();
        await using var kubernetes = await FakeKubernetesApi.StartAsync();
        var repo = github.Repo("octo/reminder-deactivate");
        var revision = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        await using var cluster = TestClusterHost.Build(github, kubernetes, silos: 1,
            new Dictionary<string, string?> { ["Handler:ReminderPeriod"] = "00:01:00" });
        await cluster.DeployAsync();
        var table = cluster.GetSiloServiceProvider(cluster.Silos[0].SiloAddress).GetRequiredService<IReminderTable>();
        var grain = cluster.Client.GetGrain<IRefGrain>(RefKey.For(ForgeNames.GitHub, repo.FullName, "refs/heads/main"));

        await grain.Enqueue(new HookEvent("d1", "push", "", repo.FullName, "", "", "refs/heads/main", revision, Payloads.ZeroSha, "main", false, DateTimeOffset.UtcNow));
        await Eventually.Until(async () => (await grain.GetSnapshot()).History.IsEmpty ? null : "done", TimeSpan.FromSeconds(20), "the event to finish");
        await cluster.DeactivateAsync(grain);

        Assert.DoesNotContain((await table.ReadRows(grain.GetGrainId())).Reminders, r => r.ReminderName == RefGrain.ReminderName);
    }
}
