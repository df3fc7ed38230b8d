using System.Globalization;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using k8s;
using k8s.Models;
using Xunit;

namespace CiTrigger.Tests.RealCluster;

/// <summary>
/// The in-pod path (Orleans' Kubernetes hosting and the applier's in-cluster configuration) against the
/// real API server, as far as it goes without a kubelet: the test creates the pod objects, sets the
/// downward-API variables, and mounts what the kubelet would project (a TokenRequest token of the k8s/
/// service account, the cluster CA, the namespace) at /var/run/secrets/kubernetes.io/serviceaccount in a
/// private mount namespace of each silo process, so nothing on the machine changes.
/// </summary>
public sealed class InPodHostingTests(RealClusterFixture fixture)
{
    private const string ProjectedVolume = "/var/run/secrets/kubernetes.io/serviceaccount";

    // What the kubelet does for a pod: a fresh /run (so /var/run/secrets is the pod's own) with the
    // service account's files, then the container's command.
    private const string Kubelet = """
        mount -t tmpfs -o size=1m tmpfs /run && mkdir -p "$PROJECTED" && cp "$SERVICE_ACCOUNT_FILES"/* "$PROJECTED"/ && exec "$@"
        """;

    [Fact]
    public async Task Silos_in_pods_label_their_pods_apply_with_the_in_cluster_token_and_notice_a_deleted_pod()
    {
        var cluster = await fixture.GetAsync();
        await using var redis = await RedisServer.StartAsync();
        await using var github = await FakeGitHubApi.StartAsync();
        var id = Guid.NewGuid().ToString("N")[..8];
        var clusterId = "pods-" + id;
        var files = Directory.CreateTempSubdirectory("citrigger-pod-").FullName;
        await File.WriteAllTextAsync(Path.Combine(files, "token"), await RealCluster.TokenAsync(cluster.Admin, RealCluster.ServiceAccount));
        File.Copy(cluster.Server.CaPath, Path.Combine(files, "ca.crt"));
        await File.WriteAllTextAsync(Path.Combine(files, "namespace"), RealCluster.Namespace);
        var pods = new[] { $"silo-a-{id}", $"silo-b-{id}" };
        foreach (var pod in pods)
        {
            await cluster.Admin.CoreV1.CreateNamespacedPodAsync(new V1Pod
            {
                Metadata = new V1ObjectMeta { Name = pod, Labels = new Dictionary<string, string> { ["app.kubernetes.io/name"] = "k8s-webhook-handler" } },
                Spec = new V1PodSpec
                {
                    ServiceAccountName = RealCluster.ServiceAccount,
                    Containers = [new V1Container { Name = "silo", Image = "k8s-webhook-handler" }],
                },
            }, RealCluster.Namespace);
        }

        await using var a = await StartPodAsync(cluster, redis, github, clusterId, pods[0], files);
        await using var b = await StartPodAsync(cluster, redis, github, clusterId, pods[1], files);

        // Each silo's hosting labels its own pod with the cluster identity (get + patch on pods).
        foreach (var pod in pods)
        {
            await Eventually.Until(async () =>
            {
                var current = await cluster.Admin.CoreV1.ReadNamespacedPodAsync(pod, RealCluster.Namespace);
                return current.Labels() is { } labels && labels.TryGetValue("orleans/clusterId", out var value) && value == clusterId ? current : null;
            }, TimeSpan.FromSeconds(30), $"the orleans/clusterId label on {pod}\n{a.Output}\n{b.Output}");
        }

        // The applier found the in-cluster configuration and applies with the projected token.
        var repo = github.Repo($"octo/pods-{id}");
        var after = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        var delivery = Guid.NewGuid().ToString();
        using (var accepted = await a.Client.SendAsync(TriggerHost.Webhook("push",
            System.Text.Encoding.UTF8.GetBytes(Payloads.Push(repo.FullName, "refs/heads/main", Payloads.Sha(1), after)), "application/json", delivery)))
        {
            Assert.Equal(System.Net.HttpStatusCode.Accepted, accepted.StatusCode);
        }

        await Eventually.Until(async () => (await cluster.WorkflowsOfDeliveryAsync(delivery)).Count == 1 ? new object() : null,
            TimeSpan.FromSeconds(30), $"the Workflow of {delivery}\n{a.Output}");
        Assert.Contains($"Applying manifests to {cluster.Server.Url} (configuration from in-cluster service account)", a.Output, StringComparison.Ordinal);

        // A silo watches the cluster's pods: deleting b's pod makes a declare b's silo (advertised at its
        // POD_IP) dead, and b, told so, stops itself.
        await cluster.Admin.CoreV1.DeleteNamespacedPodAsync(pods[1], RealCluster.Namespace);
        await Eventually.Until(() => a.Output.Contains($"Declaring server S127.0.0.1:", StringComparison.Ordinal)
                && a.Output.Contains($"dead since its corresponding pod, {pods[1]}, has been deleted", StringComparison.Ordinal),
            TimeSpan.FromSeconds(30), $"silo a to notice that pod {pods[1]} was deleted\n{a.Output}");
        await Eventually.Until(() => b.Output.Contains("I have been told I am dead, so this silo will stop", StringComparison.Ordinal),
            TimeSpan.FromSeconds(60), $"silo b to stop\n{b.Output}");
        Assert.DoesNotContain("does not correspond to any known pod", a.Output + b.Output, StringComparison.Ordinal);
    }

    private static Task<SiloProcess> StartPodAsync(RealCluster cluster, RedisServer redis, FakeGitHubApi github, string clusterId, string pod, string files) =>
        SiloProcess.StartAsync(
            new Dictionary<string, string>
            {
                ["Webhook:Secrets"] = TriggerHost.Secret,
                ["Admin:Token"] = "pod-admin-token-0123456789",
                ["GitHub:BaseUrl"] = github.BaseAddress.ToString(),
                ["Orleans:Clustering"] = "Redis",
                ["ConnectionStrings:Redis"] = redis.ConnectionString,
                ["Orleans:ClusterId"] = clusterId,
                ["Orleans:SiloPort"] = FreePorts.Next().ToString(CultureInfo.InvariantCulture),
                ["Orleans:GatewayPort"] = FreePorts.Next().ToString(CultureInfo.InvariantCulture),
                ["Orleans:Membership:ProbeTimeout"] = "00:00:01",
                ["Orleans:Membership:NumMissedProbesLimit"] = "2",
                ["Orleans:Membership:NumVotesForDeathDeclaration"] = "1",
                ["Orleans:Membership:TableRefreshTimeout"] = "00:00:02",
                ["Logging:LogLevel:CiTrigger.Kubernetes"] = "Information",
                ["Logging:LogLevel:Orleans.Hosting.Kubernetes"] = "Information",
            },
            environment: new Dictionary<string, string?>
            {
                ["KUBERNETES_SERVICE_HOST"] = cluster.Server.Url.Host,
                ["KUBERNETES_SERVICE_PORT"] = cluster.Server.Url.Port.ToString(CultureInfo.InvariantCulture),
                ["POD_NAME"] = pod,
                ["POD_NAMESPACE"] = RealCluster.Namespace,
                ["POD_IP"] = "127.0.0.1",
                ["KUBECONFIG"] = null,
                ["PROJECTED"] = ProjectedVolume,
                ["SERVICE_ACCOUNT_FILES"] = files,
            },
            launcher: ["unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", Kubelet, "kubelet"]);
}
