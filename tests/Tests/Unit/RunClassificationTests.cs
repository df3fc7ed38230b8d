using System.Text.Json;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Kubernetes;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.Unit;

public class RunClassificationTests
{
    private static JsonElement Fixture(string file) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(Payloads.FixturesRoot, "runs", file))).RootElement.Clone();

    public static TheoryData<string, RunResult, string?> Runs => new()
    {
        { "workflow-success.json", RunResult.Success, null },
        { "workflow-failure.json", RunResult.Failure, "child 'ci-f4ilq' failed" },
        { "workflow-failure-error.json", RunResult.Failure, "invalid spec: templates.build.container.image is required" },
        { "workflow-cancelled.json", RunResult.Cancelled, "Stopped with strategy 'Terminate'" },
        { "workflow-running-shutting-down.json", RunResult.Running, null },
        { "workflow-running-new.json", RunResult.Running, null },
        { "job-success.json", RunResult.Success, null },
        { "job-failure.json", RunResult.Failure, "Job has reached the specified backoff limit" },
        { "job-timedout.json", RunResult.TimedOut, "Job was active longer than specified deadline" },
        { "job-running.json", RunResult.Running, null },
        { "pipelinerun-success.json", RunResult.Success, null },
        { "pipelinerun-failure.json", RunResult.Failure, "Tasks Completed: 2 (Failed: 1, Cancelled 0), Skipped: 0" },
        { "pipelinerun-cancelled.json", RunResult.Cancelled, "PipelineRun \"pr-3\" was cancelled" },
        { "pipelinerun-cancelled-stopped.json", RunResult.Cancelled, "PipelineRun \"pr-4\" was cancelled" },
        { "pipelinerun-cancelled-finally.json", RunResult.Cancelled, "PipelineRun \"pr-5\" was cancelled" },
        { "pipelinerun-cancelled-legacy.json", RunResult.Cancelled, "PipelineRun \"pr-6\" was cancelled" },
        { "pipelinerun-timedout.json", RunResult.TimedOut, "PipelineRun \"pr-8\" failed to finish within \"1h0m0s\"" },
        { "pipelinerun-running.json", RunResult.Running, null },
        { "taskrun-success.json", RunResult.Success, null },
        { "taskrun-failure.json", RunResult.Failure, "\"step-build\" exited with code 1" },
        { "taskrun-cancelled.json", RunResult.Cancelled, "TaskRun \"tr-3\" was cancelled. " },
        { "taskrun-running.json", RunResult.Running, null },
    };

    [Theory]
    [MemberData(nameof(Runs))]
    public void A_run_object_is_classified_from_the_status_its_controller_wrote(string file, RunResult result, string? message)
    {
        var obj = Fixture(file);

        var state = RunClassification.State(obj.GetProperty("apiVersion").GetString()!, obj.GetProperty("kind").GetString()!, obj);

        Assert.NotNull(state);
        Assert.Equal((result, message), (state.Result, state.Message));
    }

    [Fact]
    public void The_event_of_a_run_object_comes_from_its_delivery_label_and_its_repository_and_ref_annotations()
    {
        var state = RunClassification.State("argoproj.io/v1alpha1", "Workflow", Fixture("workflow-success.json"));

        Assert.Equal(
            new RunObjectState("72d3162e-cc78-11e3-81ab-4c9367dc0958", "octo/app", "refs/heads/main", "argoproj.io/v1alpha1", "Workflow", "ci", "ci-x7k2p", RunResult.Success),
            state);
    }

    [Fact]
    public void A_run_object_of_another_forge_s_event_names_that_forge()
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(Fixture("workflow-success.json").GetRawText())!;
        node["metadata"]!["annotations"]!["k8s-webhook-handler.io/forge"] = "gitlab";

        var state = RunClassification.State("argoproj.io/v1alpha1", "Workflow", JsonSerializer.SerializeToElement(node));

        Assert.Equal(("gitlab", "octo/app"), (state!.Forge, state.Repository));
    }

    [Theory]
    [InlineData("labels", "k8s-webhook-handler.io/delivery")]
    [InlineData("annotations", "k8s-webhook-handler.io/delivery")]
    [InlineData("annotations", "k8s-webhook-handler.io/repo_name")]
    [InlineData("annotations", "k8s-webhook-handler.io/ref")]
    public void An_object_without_the_delivery_label_or_the_repository_or_ref_annotation_is_not_a_run_of_an_event(string map, string key)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(Fixture("workflow-success.json").GetRawText())!;
        node["metadata"]![map]!.AsObject().Remove(key);

        Assert.Null(RunClassification.State("argoproj.io/v1alpha1", "Workflow", JsonSerializer.SerializeToElement(node)));
    }

    [Theory]
    [InlineData("push/redelivered 2")]
    [InlineData("72d3162e-cc78-11e3-81ab-4c9367dc0958-rerun-1")]
    public void The_delivery_is_the_annotation_as_sent_even_when_the_label_holds_its_hash(string delivery)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(Fixture("workflow-success.json").GetRawText())!;
        node["metadata"]!["labels"]!["k8s-webhook-handler.io/delivery"] = CiTrigger.Grains.Manifests.ManifestAnnotator.LabelValue(delivery);
        node["metadata"]!["annotations"]!["k8s-webhook-handler.io/delivery"] = delivery;

        var state = RunClassification.State("argoproj.io/v1alpha1", "Workflow", JsonSerializer.SerializeToElement(node));

        Assert.Equal(delivery, state?.Delivery);
    }

    [Fact]
    public void An_object_whose_delivery_label_and_annotation_disagree_is_not_a_run_of_an_event()
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(Fixture("workflow-success.json").GetRawText())!;
        node["metadata"]!["annotations"]!["k8s-webhook-handler.io/delivery"] = "another-delivery";

        Assert.Null(RunClassification.State("argoproj.io/v1alpha1", "Workflow", JsonSerializer.SerializeToElement(node)));
    }

    [Theory]
    [InlineData("""{"status":"done"}""")]
    [InlineData("""{"status":{"phase":7,"conditions":"no"}}""")]
    [InlineData("""{"status":{"conditions":[3,{"type":"Complete"},{"type":"Complete","status":"Maybe"}]}}""")]
    [InlineData("[]")]
    public void A_status_of_an_unexpected_shape_reads_as_running(string json)
    {
        var obj = JsonDocument.Parse(json).RootElement;

        foreach (var kind in RunKinds.All)
        {
            Assert.Equal((RunResult.Running, (string?)null), RunClassification.Classify(kind, obj));
        }
    }
}
