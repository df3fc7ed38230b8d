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
    public static string Job(string script, int grace = 30, string? secret = null, bool optional = false) => $"""
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
        {(secret is null ? "" : $"""
                  env:
                    - name: DEPLOY_KEY
                      valueFrom:
                        secretKeyRef:
                          name: {secret}
                          key: key
                          optional: {(optional ? "true" : "false")}
        """)}
        """;

    [Fact]
    public async Task A_job_that_exits_0_completes_its_check_as_success_and_one_that_exits_3_as_failure()
    {
        var repo = node.Repo("job");

        var (passing, accepted) = await node.PushAsync(repo, "main", Job("echo ok; exit 0"));
        Assert.Equal(202, accepted);
        var success = await node.CheckAsync(passing, "completed", TimeSpan.FromMinutes(2));
        // The failing run prints a Secret's value it takes from its environment, and a token-shaped string. All on stdout:
        // containerd 1.6 here drops a container's stderr lines at times (2 of 3 short pods in a check, docs/testing.md).
        var secret = "deploy-" + Guid.NewGuid().ToString("N")[..8];
        var secretValue = "s3cr3t-" + Guid.NewGuid().ToString("N");
        await node.Admin.CoreV1.CreateNamespacedSecretAsync(new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = secret },
            StringData = new Dictionary<string, string> { ["key"] = secretValue },
        }, NodeInstallation.Namespace);
        var script = string.Join("; ", Enumerable.Range(1, 60).Select(i => $"echo step {i}"))
            + "; echo key=$DEPLOY_KEY; echo token=ghs_0123456789abcdefghijABCDEFGHIJ; echo broken; exit 3";
        var (failing, acceptedToo) = await node.PushAsync(repo, "main", Job(script, secret: secret));
        Assert.Equal(202, acceptedToo);
        var failure = await node.CheckAsync(failing, "completed", TimeSpan.FromMinutes(2));

        Assert.Equal(("success", "failure"), (success.Conclusion, failure.Conclusion));
        Assert.Equal((NodeInstallation.StatusContext, NodeInstallation.StatusContext), (success.Name, failure.Name));

        // Why it failed, in the check: the end of the failed container's log (the last 50 lines), the Secret's
        // value and the token masked.
        var text = failure.Output?["text"]?.GetValue<string>() ?? "";
        Assert.Contains("container `run`", text, StringComparison.Ordinal);
        Assert.True(text.Contains("key=***\ntoken=***\nbroken\n", StringComparison.Ordinal), "the check's text ends otherwise:\n" + text);
        Assert.DoesNotContain(secretValue, text, StringComparison.Ordinal);
        Assert.DoesNotContain("ghs_0123456789", text, StringComparison.Ordinal);
        Assert.Contains("step 60", text, StringComparison.Ordinal);
        Assert.Contains("step 14\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("step 13\n", text, StringComparison.Ordinal);

        // The delivery page shows the same, read when the page is asked for.
        var page = System.Net.WebUtility.HtmlDecode(await node.Client.GetStringAsync($"ui/deliveries/{failing}"));
        Assert.True(page.Contains("key=***\ntoken=***\nbroken", StringComparison.Ordinal), "the delivery page shows otherwise:\n" + page);
        Assert.DoesNotContain(secretValue, page, StringComparison.Ordinal);

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

    [Fact]
    public async Task When_a_secret_the_pod_uses_cannot_be_read_no_line_of_the_log_is_shown_and_the_check_says_why()
    {
        var repo = node.Repo("withheld");
        // An optional Secret that does not exist: the pod runs, and the service cannot learn what to mask.
        var missing = "missing-" + Guid.NewGuid().ToString("N")[..8];
        var (failing, accepted) = await node.PushAsync(repo, "main", Job("echo visible-line; exit 1", secret: missing, optional: true));
        Assert.Equal(202, accepted);

        var failure = await node.CheckAsync(failing, "completed", TimeSpan.FromMinutes(2));
        Assert.Equal("failure", failure.Conclusion);
        var text = failure.Output?["text"]?.GetValue<string>() ?? "";
        Assert.True(text.Contains($"not shown: Secret {missing}, which the pod uses, could not be read to mask its values (the API server answered 404)", StringComparison.Ordinal),
            "the check's text is otherwise:\n" + text);
        Assert.DoesNotContain("visible-line", text, StringComparison.Ordinal);
    }

    private async Task<int?> ExitCodeAsync(V1Job job)
    {
        var pod = Assert.Single((await node.Admin.CoreV1.ListNamespacedPodAsync(NodeInstallation.Namespace, labelSelector: $"job-name={job.Metadata.Name}")).Items);
        Assert.Equal(LocalNode.NodeName, pod.Spec.NodeName);
        return pod.Status.ContainerStatuses.Single().State.Terminated?.ExitCode;
    }
}
