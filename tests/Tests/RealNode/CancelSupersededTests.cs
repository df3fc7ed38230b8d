using System.Net;
using CiTrigger.Tests.Support;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Xunit;

namespace CiTrigger.Tests.RealNode;

/// <summary>
/// <c>Handler:CancelSuperseded=true</c> on the real node: a newer push of the branch stops the older Job
/// still running, and its pod, with the container's process in it, is really gone.
/// </summary>
[Collection(OneNode.Name)]
public sealed class CancelSupersededTests(NodeInstallation node)
{
    [Fact]
    public async Task A_newer_push_deletes_the_running_sleep_job_and_its_pod_and_cancels_its_check_while_the_new_run_succeeds()
    {
        var repo = node.Repo("supersede");
        var (sleeping, accepted) = await node.PushAsync(repo, "main", JobRunTests.Job("sleep 300", grace: 2));
        Assert.Equal(202, accepted);
        await node.CheckAsync(sleeping, "in_progress", TimeSpan.FromMinutes(1));
        var job = await Eventually.Until(async () => (await JobsOfAsync(sleeping)).SingleOrDefault(), TimeSpan.FromSeconds(30), "the sleeping Job");
        var pod = await Eventually.Until(async () => (await node.Admin.CoreV1.ListNamespacedPodAsync(NodeInstallation.Namespace,
                labelSelector: $"job-name={job.Metadata.Name}")).Items.SingleOrDefault(p => p.Status.ContainerStatuses?.SingleOrDefault()?.State.Running is not null),
            TimeSpan.FromMinutes(1), "the sleeping Job's container running");

        var (newer, acceptedToo) = await node.PushAsync(repo, "main", JobRunTests.Job("echo ok"));
        Assert.Equal(202, acceptedToo);

        var cancelled = await node.CheckAsync(sleeping, "completed", TimeSpan.FromMinutes(1));
        Assert.Equal("cancelled", cancelled.Conclusion);
        Assert.Equal("success", (await node.CheckAsync(newer, "completed", TimeSpan.FromMinutes(2))).Conclusion);
        await Eventually.Until(async () => await GoneAsync(() => node.Admin.BatchV1.ReadNamespacedJobAsync(job.Metadata.Name, NodeInstallation.Namespace)),
            TimeSpan.FromSeconds(30), $"Job {job.Metadata.Name} deleted");
        await Eventually.Until(async () => await GoneAsync(() => node.Admin.CoreV1.ReadNamespacedPodAsync(pod.Metadata.Name, NodeInstallation.Namespace)),
            TimeSpan.FromMinutes(1), $"pod {pod.Metadata.Name} deleted");
        Assert.Empty(LocalNode.ProcessesIn($"pod{pod.Metadata.Uid}"));
    }

    private async Task<IReadOnlyList<V1Job>> JobsOfAsync(string delivery) =>
        (await node.Admin.BatchV1.ListNamespacedJobAsync(NodeInstallation.Namespace, labelSelector: $"k8s-webhook-handler.io/delivery={delivery}")).Items.ToList();

    private static async Task<object?> GoneAsync(Func<Task> read)
    {
        try
        {
            await read();
            return null;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return new object();
        }
    }
}
