using System.Collections.Concurrent;
using System.Diagnostics;
using CiTrigger.Tests.Fakes;
using k8s;
using k8s.Models;
using Xunit;

namespace CiTrigger.Tests.RealNode;

/// <summary>
/// A silo lost while pushes arrive, on the real node: its pod force-deleted (the API forgets it at once and the
/// ReplicaSet makes a new one), or its process killed with SIGKILL inside the container (the kubelet starts
/// it again in the same pod). Pushes go to the Service as GitHub sends them, each delivered again until it is
/// acknowledged, as GitHub's redelivery would; every acknowledged one must be applied once, in order per ref.
/// </summary>
[Collection(OneNode.Name)]
public sealed class SiloLossTests(NodeInstallation node)
{
    private const int Refs = 5;
    private const int PushesPerRef = 10;

    /// <summary>A ConfigMap: cheap to create, never a run, so each event is complete once applied.</summary>
    public static string ConfigMap(string branch, int n) => $"""
        apiVersion: v1
        kind: ConfigMap
        metadata:
          generateName: push-
        data:
          branch: {branch}
          n: "{n}"
        """;

    [Fact]
    public async Task Fifty_pushes_over_five_refs_while_a_silo_pod_is_force_deleted_are_applied_once_each_in_order_and_a_new_pod_joins()
    {
        await node.WaitHealthyAsync(TimeSpan.FromMinutes(3));
        var victim = (await node.SiloPodsAsync())[0];

        var run = await PushWhileAsync(victim, async () =>
            await node.Admin.CoreV1.DeleteNamespacedPodAsync(victim.Metadata.Name, NodeInstallation.Namespace, gracePeriodSeconds: 0));

        await AssertAppliedOnceInOrderAsync(run);
        Measurements.Record("refs served again after a silo pod was force-deleted", await ServedAgainAsync(run));
        await node.WaitHealthyAsync(TimeSpan.FromMinutes(3));
        var pods = await node.SiloPodsAsync();
        Assert.DoesNotContain(pods, p => p.Metadata.Name == victim.Metadata.Name);
        Assert.Empty(LocalNode.ProcessesIn($"pod{victim.Metadata.Uid}"));
    }

    [Fact]
    public async Task Fifty_pushes_over_five_refs_while_a_silo_process_is_killed_are_applied_once_each_in_order_and_the_restarted_silo_rejoins()
    {
        await node.WaitHealthyAsync(TimeSpan.FromMinutes(3));
        var victim = (await node.SiloPodsAsync())[0];
        var container = victim.Status.ContainerStatuses.Single();
        var processes = LocalNode.ProcessesIn(container.ContainerID.Split("://")[1]);
        Assert.NotEmpty(processes);

        var run = await PushWhileAsync(victim, () =>
        {
            foreach (var pid in processes)
            {
                Process.GetProcessById(pid).Kill();
            }

            return Task.CompletedTask;
        });

        await AssertAppliedOnceInOrderAsync(run);
        Measurements.Record("refs served again after a silo process was killed", await ServedAgainAsync(run));
        await node.WaitHealthyAsync(TimeSpan.FromMinutes(3));
        var restarted = (await node.SiloPodsAsync()).Single(p => p.Metadata.Name == victim.Metadata.Name);
        Assert.Equal(container.RestartCount + 1, restarted.Status.ContainerStatuses.Single().RestartCount);
        Assert.Equal("Error", restarted.Status.ContainerStatuses.Single().LastState.Terminated?.Reason);
        Assert.Contains(restarted.Status.PodIP, await node.ActiveSilosAsync());
    }

    /// <summary>The pushes of one run: per ref, the deliveries in the order they were acknowledged.</summary>
    private sealed record PushRun(FakeGitHubApi.Repository Repo, IReadOnlyDictionary<string, List<string>> Acknowledged, TimeSpan Served,
        DateTimeOffset DisruptedAt, IReadOnlyDictionary<string, string> FirstAfter);

    /// <summary>
    /// Pushes 10 times on each of 5 refs, the refs side by side, each ref's next push once the last one is
    /// acknowledged; <paramref name="disrupt"/> runs once a quarter of them are in. Each ref's first push goes
    /// to <paramref name="victim"/>'s own address, so every ref lives on the silo that is lost (a ref is placed
    /// where its webhook arrives); the others go through the Service. Returns, besides the acknowledged
    /// deliveries, how long after the disruption the last ref had a push sent after it acknowledged.
    /// </summary>
    private async Task<PushRun> PushWhileAsync(V1Pod victim, Func<Task> disrupt)
    {
        var repo = node.Repo("loss");
        var acknowledged = new ConcurrentDictionary<string, List<string>>();
        var count = 0;
        var disrupted = new TaskCompletionSource<Stopwatch>(TaskCreationOptions.RunContinuationsAsynchronously);
        var disruptedAt = DateTimeOffset.MinValue;
        var servedAgain = new ConcurrentDictionary<string, TimeSpan>();
        var firstAfter = new ConcurrentDictionary<string, string>();
        var pushes = Enumerable.Range(0, Refs).Select(r => Task.Run(async () =>
        {
            var branch = $"b{r}";
            var list = acknowledged.GetOrAdd(branch, _ => []);
            for (var n = 1; n <= PushesPerRef; n++)
            {
                var afterDisruption = disrupted.Task.IsCompleted;
                var delivery = await node.PushAcknowledgedAsync(repo, branch, ConfigMap(branch, n), n == 1 ? NodeInstallation.PodUrl(victim) : null);
                list.Add(delivery);
                if (afterDisruption && !servedAgain.ContainsKey(branch))
                {
                    servedAgain[branch] = (await disrupted.Task).Elapsed;
                    firstAfter[branch] = delivery;
                }

                if (Interlocked.Increment(ref count) == Refs * PushesPerRef / 4)
                {
                    disruptedAt = DateTimeOffset.UtcNow;
                    await disrupt();
                    disrupted.SetResult(Stopwatch.StartNew());
                }

                await Task.Delay(300);
            }
        })).ToList();
        await Task.WhenAll(pushes);
        return new PushRun(repo, acknowledged, servedAgain.Values.Max(), disruptedAt, firstAfter);
    }

    /// <summary>
    /// How long after the disruption every ref had a push acknowledged, and had one applied (the service's own
    /// finishedAt of each ref's first push acknowledged after it; the pods share this machine's clock).
    /// </summary>
    private async Task<string> ServedAgainAsync(PushRun run)
    {
        var applied = TimeSpan.Zero;
        foreach (var delivery in run.FirstAfter.Values)
        {
            var record = System.Text.Json.Nodes.JsonNode.Parse(await node.Client.GetStringAsync($"admin/deliveries/{delivery}"))!;
            var finishedAt = record["result"]!["finishedAt"]!.GetValue<DateTimeOffset>();
            applied = finishedAt - run.DisruptedAt > applied ? finishedAt - run.DisruptedAt : applied;
        }

        return string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"every ref had a push acknowledged {run.Served.TotalSeconds:0.0} s and applied {applied.TotalSeconds:0.0} s after it");
    }

    private async Task AssertAppliedOnceInOrderAsync(PushRun run)
    {
        var all = run.Acknowledged.Values.SelectMany(d => d).ToHashSet();
        Assert.Equal(Refs * PushesPerRef, all.Count);
        await node.WaitAppliedAsync(all, TimeSpan.FromMinutes(2));
        var created = await node.ConfigMapsAsync(run.Repo);

        // Once: one object per delivery, none for anything else. In order: the API server's own sequence.
        Assert.Equal(all.Order(StringComparer.Ordinal), created.Select(Delivery).Order(StringComparer.Ordinal));
        foreach (var (branch, deliveries) in run.Acknowledged)
        {
            var ofRef = created.Where(c => c.Data["branch"] == branch).ToList();
            Assert.Equal(deliveries, ofRef.Select(Delivery));
            Assert.Equal(Enumerable.Range(1, PushesPerRef).Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture)), ofRef.Select(c => c.Data["n"]));
        }
    }

    private static string Delivery(V1ConfigMap c) => c.Metadata.Labels["k8s-webhook-handler.io/delivery"];
}
