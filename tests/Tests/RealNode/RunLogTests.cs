using System.Text.Json.Nodes;
using CiTrigger.Tests.Support;
using k8s;
using k8s.Models;
using Xunit;

namespace CiTrigger.Tests.RealNode;

/// <summary>
/// Why a run failed, for the kinds whose controllers do not run here: the test plays Argo's and Tekton's
/// controllers (a real pod run by the kubelet, labelled and annotated as they label theirs, then the run's
/// <c>status</c> written the way they write it), and the check must end with that pod's real log, read through
/// the API server from the kubelet.
/// </summary>
[Collection(OneNode.Name)]
public sealed class RunLogTests(NodeInstallation node)
{
    [Fact]
    public async Task A_failed_workflow_shows_the_log_of_its_failed_pod_nodes_main_container()
    {
        var repo = node.Repo("wflog");
        var (delivery, status) = await node.PushAsync(repo, "main", """
            apiVersion: argoproj.io/v1alpha1
            kind: Workflow
            metadata:
              generateName: ci-
            spec:
              entrypoint: main
            """);
        Assert.Equal(202, status);
        var workflow = await RunObjectAsync("argoproj.io", "v1alpha1", "workflows", delivery);
        var name = workflow["metadata"]!["name"]!.GetValue<string>();

        // As Argo (v3.4 pod names): the pod of node {name}-1234, its init/wait sidecars left out, container main.
        var nodeId = $"{name}-1234";
        var pod = await RunPodAsync($"{name}-test-1234", new Dictionary<string, string> { ["workflows.argoproj.io/workflow"] = name },
            new Dictionary<string, string> { ["workflows.argoproj.io/node-id"] = nodeId },
            ("main", "echo compiling; echo 'test_login FAILED'; exit 2"));
        await node.Admin.CustomObjects.PatchNamespacedCustomObjectStatusAsync(new V1Patch(new JsonObject
        {
            ["status"] = new JsonObject
            {
                ["phase"] = "Failed",
                ["message"] = "child 'test' failed",
                ["nodes"] = new JsonObject
                {
                    [name] = new JsonObject { ["id"] = name, ["type"] = "Steps", ["phase"] = "Failed", ["finishedAt"] = "2026-12-07T10:00:02Z" },
                    [nodeId] = new JsonObject { ["id"] = nodeId, ["type"] = "Pod", ["phase"] = "Failed", ["finishedAt"] = "2026-12-07T10:00:01Z" },
                },
            },
        }.ToJsonString(), V1Patch.PatchType.MergePatch), "argoproj.io", "v1alpha1", NodeInstallation.Namespace, "workflows", name);

        var check = await node.CheckAsync(delivery, "completed", TimeSpan.FromMinutes(1));
        Assert.Equal("failure", check.Conclusion);
        var text = check.Output?["text"]?.GetValue<string>() ?? "";
        Assert.True(text.Contains($"pod `{pod}`, container `main`", StringComparison.Ordinal) && text.Contains("compiling\ntest_login FAILED\n", StringComparison.Ordinal),
            "the check's text is otherwise:\n" + text);
    }

    [Fact]
    public async Task A_failed_taskrun_shows_the_log_of_its_failed_step_and_not_of_the_one_that_passed()
    {
        var repo = node.Repo("trlog");
        var (delivery, status) = await node.PushAsync(repo, "main", """
            apiVersion: tekton.dev/v1
            kind: TaskRun
            metadata:
              generateName: ci-
            spec:
              taskRef:
                name: build-and-test
            """);
        Assert.Equal(202, status);
        var taskRun = await RunObjectAsync("tekton.dev", "v1", "taskruns", delivery);
        var name = taskRun["metadata"]!["name"]!.GetValue<string>();

        // As Tekton: one pod, a container per step named step-{name}.
        var pod = await RunPodAsync($"{name}-pod", new Dictionary<string, string> { ["tekton.dev/taskRun"] = name }, [],
            ("step-build", "echo built fine; exit 0"), ("step-test", "echo 'assertion failed: 1 == 2'; exit 4"));
        await node.Admin.CustomObjects.PatchNamespacedCustomObjectStatusAsync(new V1Patch(new JsonObject
        {
            ["status"] = new JsonObject
            {
                ["podName"] = pod,
                ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Succeeded", ["status"] = "False", ["reason"] = "Failed", ["message"] = "\"step-test\" exited with code 4" }),
                ["steps"] = new JsonArray(
                    new JsonObject { ["name"] = "build", ["container"] = "step-build", ["terminated"] = new JsonObject { ["exitCode"] = 0 } },
                    new JsonObject { ["name"] = "test", ["container"] = "step-test", ["terminated"] = new JsonObject { ["exitCode"] = 4 } }),
            },
        }.ToJsonString(), V1Patch.PatchType.MergePatch), "tekton.dev", "v1", NodeInstallation.Namespace, "taskruns", name);

        var check = await node.CheckAsync(delivery, "completed", TimeSpan.FromMinutes(1));
        Assert.Equal("failure", check.Conclusion);
        var text = check.Output?["text"]?.GetValue<string>() ?? "";
        Assert.True(text.Contains($"pod `{pod}`, container `step-test`", StringComparison.Ordinal) && text.Contains("assertion failed: 1 == 2\n", StringComparison.Ordinal),
            "the check's text is otherwise:\n" + text);
        Assert.DoesNotContain("built fine", text, StringComparison.Ordinal);
    }

    /// <summary>The run object the service created for <paramref name="delivery"/>, once it is there.</summary>
    private Task<JsonNode> RunObjectAsync(string group, string version, string plural, string delivery) =>
        Eventually.Until(async () =>
        {
            var list = JsonNode.Parse(((System.Text.Json.JsonElement)await node.Admin.CustomObjects.ListNamespacedCustomObjectAsync(group, version, NodeInstallation.Namespace, plural,
                labelSelector: $"k8s-webhook-handler.io/delivery={delivery}")).GetRawText())!;
            return list["items"]!.AsArray().SingleOrDefault();
        }, TimeSpan.FromSeconds(30), $"the {plural} object of {delivery}");

    /// <summary>Runs a pod of busybox containers to their end on the node, as a controller would, and returns its name once it failed.</summary>
    private async Task<string> RunPodAsync(string name, Dictionary<string, string> labels, Dictionary<string, string> annotations, params (string Name, string Script)[] containers)
    {
        await node.Admin.CoreV1.CreateNamespacedPodAsync(new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = name, Labels = labels, Annotations = annotations },
            Spec = new V1PodSpec
            {
                RestartPolicy = "Never",
                Containers = [.. containers.Select(c => new V1Container { Name = c.Name, Image = "localhost/busybox:dev", ImagePullPolicy = "Never", Command = ["sh", "-c", c.Script] })],
            },
        }, NodeInstallation.Namespace);
        await Eventually.Until(async () => (await node.Admin.CoreV1.ReadNamespacedPodAsync(name, NodeInstallation.Namespace)).Status?.Phase == "Failed" ? new object() : null,
            TimeSpan.FromMinutes(1), $"pod {name} failed");
        return name;
    }
}
