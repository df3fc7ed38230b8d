using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.RealNode;

/// <summary>
/// The PodDisruptionBudget of k8s/ (maxUnavailable 1) against <c>kubectl drain</c> of the node: the first silo
/// is evicted, its replacement cannot be scheduled on the cordoned node, and every further eviction is refused,
/// so one silo keeps serving until the node is uncordoned.
/// </summary>
[Collection(OneNode.Name)]
public sealed class DrainTests(NodeInstallation node)
{
    [Fact]
    public async Task Draining_the_node_evicts_one_silo_and_the_budget_refuses_the_next_while_the_other_keeps_serving()
    {
        await node.WaitHealthyAsync(TimeSpan.FromMinutes(3));
        var before = await node.SiloPodsAsync();
        try
        {
            // Only the silos: Redis has no budget, and evicting it would stop the silos from storing anything.
            var (exitCode, output) = await node.Node.RunKubectlAsync(
                ["drain", LocalNode.NodeName, $"--pod-selector={NodeInstallation.SiloSelector}", "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=15s"],
                check: false, timeout: TimeSpan.FromMinutes(2));

            Assert.NotEqual(0, exitCode);
            Assert.Contains("Cannot evict pod as it would violate the pod's disruption budget", output, StringComparison.Ordinal);
            var pods = await node.SiloPodsAsync();
            var survivors = pods.Where(p => before.Any(b => b.Metadata.Name == p.Metadata.Name) && p.Metadata.DeletionTimestamp is null).ToList();
            var survivor = Assert.Single(survivors);
            Assert.True(NodeInstallation.IsReady(survivor));
            var replacement = Assert.Single(pods, p => before.All(b => b.Metadata.Name != p.Metadata.Name));
            Assert.Equal("Pending", replacement.Status.Phase);
            // Evicted: being deleted or gone. kubectl prints "evicted" only once the pod is deleted, which its
            // termination grace (45 s) may outlast the drain's own timeout.
            var evicted = before.Single(b => b.Metadata.Name != survivor.Metadata.Name).Metadata.Name;
            Assert.Contains($"evicting pod {NodeInstallation.Namespace}/{evicted}", output, StringComparison.Ordinal);
            Assert.DoesNotContain(pods, p => p.Metadata.Name == evicted && p.Metadata.DeletionTimestamp is null);

            // The remaining silo takes webhooks alone.
            var repo = node.Repo("drain");
            var delivery = await node.PushAcknowledgedAsync(repo, "main", SiloLossTests.ConfigMap("main", 1));
            await Eventually.Until(async () => (await node.ConfigMapsAsync(repo)).Count == 1 ? new object() : null, TimeSpan.FromSeconds(30), $"the ConfigMap of {delivery}");
        }
        finally
        {
            await node.Node.KubectlAsync("uncordon", LocalNode.NodeName);
        }

        await node.WaitHealthyAsync(TimeSpan.FromMinutes(3));
    }
}
