using k8s;
using k8s.Models;
using Xunit;

namespace CiTrigger.Tests.RealNode;

/// <summary>
/// A push whose manifest is a batch/v1 Job: the silo pods create it, the real job controller makes its pod,
/// the scheduler places it, the kubelet runs busybox in it through containerd, and the check the service
/// reports on the commit is the Job's own result.
/// </summary>
[Collection(OneNode.Name)]
public sealed class JobRunTests(NodeInstallation node)
{
    public static string Job(string script, int grace = 30) => $"""
        apiVersion: batch/v1
        kind: Job
        metadata:
          generateName: ci-
        spec:
          backoffLimit: 0
          template:
            spec:
              restartPolicy: Never
              terminationGracePeriodSeconds: {grace}
              containers:
                - name: run
                  image: localhost/busybox:dev
                  imagePullPolicy: Never
                  command: ["sh", "-c", "{script}"]
        """;

    [Fact]
    public async Task A_job_that_exits_0_completes_its_check_as_success_and_one_that_exits_3_as_failure()
    {
        var repo = node.Repo("job");

        var (passing, accepted) = await node.PushAsync(repo, "main", Job("echo ok; exit 0"));
        Assert.Equal(202, accepted);
        var success = await node.CheckAsync(passing, "completed", TimeSpan.FromMinutes(2));
        var (failing, acceptedToo) = await node.PushAsync(repo, "main", Job("echo building; echo broken >&2; exit 3"));
        Assert.Equal(202, acceptedToo);
        var failure = await node.CheckAsync(failing, "completed", TimeSpan.FromMinutes(2));

        Assert.Equal(("success", "failure"), (success.Conclusion, failure.Conclusion));
        Assert.Equal((NodeInstallation.StatusContext, NodeInstallation.StatusContext), (success.Name, failure.Name));

        // What the controllers did, as the cluster records it: each Job's one pod ran on the node and exited
        // with the script's code, and the Job carries the condition the check was read from.
        var jobs = (await node.Admin.BatchV1.ListNamespacedJobAsync(NodeInstallation.Namespace)).Items;
        var passed = Assert.Single(jobs, j => NodeInstallation.DeliveryOf(j.Metadata) == passing);
        var failed = Assert.Single(jobs, j => NodeInstallation.DeliveryOf(j.Metadata) == failing);
        Assert.Contains(passed.Status.Conditions, c => c.Type == "Complete" && c.Status == "True");
        Assert.Contains(failed.Status.Conditions, c => c.Type == "Failed" && c.Status == "True");
        Assert.Equal(0, await ExitCodeAsync(passed));
        Assert.Equal(3, await ExitCodeAsync(failed));
        var log = await node.Node.KubectlAsync("-n", NodeInstallation.Namespace, "logs", $"job/{passed.Metadata.Name}");
        Assert.Equal("ok", log.Trim());
    }

    private async Task<int?> ExitCodeAsync(V1Job job)
    {
        var pod = Assert.Single((await node.Admin.CoreV1.ListNamespacedPodAsync(NodeInstallation.Namespace, labelSelector: $"job-name={job.Metadata.Name}")).Items);
        Assert.Equal(LocalNode.NodeName, pod.Spec.NodeName);
        return pod.Status.ContainerStatuses.Single().State.Terminated?.ExitCode;
    }
}
