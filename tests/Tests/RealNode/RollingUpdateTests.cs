using System.Collections.Concurrent;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.RealNode;

/// <summary>
/// A rolling update of the Deployment (<c>kubectl rollout restart</c>: maxSurge 1, maxUnavailable 0, each old
/// silo given its 45 s to leave) under a trickle of pushes delivered once each, as GitHub delivers them. What
/// GitHub would see is counted; the deliveries it saw fail are found by the service's delivery recovery in the
/// App's delivery log and redelivered by GitHub. No acknowledged event may be lost, and in the end every push
/// is applied exactly once.
/// </summary>
[Collection(OneNode.Name)]
public sealed class RollingUpdateTests(NodeInstallation node)
{
    [Fact]
    public async Task During_a_rolling_update_no_acknowledged_push_is_lost_and_the_failed_ones_are_recovered_and_applied_once()
    {
        await node.WaitHealthyAsync(TimeSpan.FromMinutes(3));
        var repo = node.Repo("roll");
        var before = (await node.SiloPodsAsync()).Select(p => p.Metadata.Name).ToHashSet();
        var answers = new ConcurrentBag<(string Delivery, int Status)>();
        using var stop = new CancellationTokenSource();
        var n = 0;
        var trickle = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var branch = $"r{n % 2}";
                answers.Add(await node.PushAsync(repo, branch, SiloLossTests.ConfigMap(branch, Interlocked.Increment(ref n)), TimeSpan.FromSeconds(10)));
                await Task.Delay(250);
            }
        });

        await Eventually.Until(() => Task.FromResult(answers.Count >= 10 ? new object() : null), TimeSpan.FromMinutes(1), "10 pushes answered before the roll");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await node.Node.KubectlAsync("-n", NodeInstallation.Namespace, "rollout", "restart", $"deployment/{NodeInstallation.Deployment}");
        await node.Node.RunKubectlAsync(["-n", NodeInstallation.Namespace, "rollout", "status", $"deployment/{NodeInstallation.Deployment}", "--timeout=300s"],
            timeout: TimeSpan.FromMinutes(6));
        var rolled = clock.Elapsed;
        var answeredByTheEnd = answers.Count;
        await Eventually.Until(() => Task.FromResult(answers.Count >= answeredByTheEnd + 10 ? new object() : null), TimeSpan.FromMinutes(1), "10 pushes answered after the roll");
        await stop.CancelAsync();
        await trickle;
        await node.WaitHealthyAsync(TimeSpan.FromMinutes(3));
        Assert.DoesNotContain((await node.SiloPodsAsync()), p => before.Contains(p.Metadata.Name));

        var all = answers.ToList();
        var acknowledged = all.Where(a => a.Status == 202).Select(a => a.Delivery).ToHashSet();
        var failed = all.Where(a => a.Status != 202).ToList();
        var outcome = $"{all.Count} pushes during a {rolled.TotalSeconds:0} s roll: {acknowledged.Count} answered 202, " +
            string.Join(", ", failed.GroupBy(a => a.Status).OrderBy(g => g.Key).Select(g => $"{g.Count()} {(g.Key == 0 ? "without an answer" : $"answered {g.Key}")}"));
        TestContext.Current.TestOutputHelper?.WriteLine(outcome);
        Measurements.Record("rolling update", outcome);

        // Every push is applied once in the end: the acknowledged ones from their queues, the failed ones after the
        // service found them in GitHub's delivery log and asked for them again.
        await node.WaitAppliedAsync(all.Select(a => a.Delivery).ToList(), TimeSpan.FromMinutes(2));
        var created = await node.ConfigMapsAsync(repo);
        var applied = created.Select(c => c.Metadata.Labels["k8s-webhook-handler.io/delivery"]).ToList();
        Assert.Equal(all.Select(a => a.Delivery).Order(StringComparer.Ordinal), applied.Order(StringComparer.Ordinal));
        Assert.Subset(applied.ToHashSet(), acknowledged);
        var redelivered = failed.Count(f => node.App.Deliveries.All.Any(d => d.Redelivery && d.DeliveryGuid == f.Delivery && d.Succeeded));
        Measurements.Record("rolling update, recovered",
            $"of the {failed.Count} deliveries GitHub saw fail, {redelivered} were redelivered on the service's request and all {failed.Count} applied once");
    }
}
