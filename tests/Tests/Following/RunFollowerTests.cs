using System.Text.Json.Nodes;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Grains.Kubernetes;
using CiTrigger.Grains.Pipeline;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using k8s;
using Xunit;

namespace CiTrigger.Tests.Following;

/// <summary>The run follower against the strict fake API server, which can drop watches and expire history on demand.</summary>
public sealed class RunFollowerTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private static KubernetesClientConfiguration Config(FakeKubernetesApi fake) =>
        new() { Host = fake.BaseAddress.ToString(), AccessToken = FakeKubernetesApi.Token };

    /// <summary>A run object as the applier leaves it: delivery label, delivery, repo_name and ref annotations.</summary>
    public static JsonObject Run(string apiVersion, string kind, string name, string delivery = "d-1", bool annotated = true, string gitRef = "refs/heads/main")
    {
        var annotations = new JsonObject();
        if (annotated)
        {
            annotations["k8s-webhook-handler.io/delivery"] = delivery;
            annotations["k8s-webhook-handler.io/repo_name"] = "octo/app";
            annotations["k8s-webhook-handler.io/ref"] = gitRef;
        }

        return new JsonObject
        {
            ["apiVersion"] = apiVersion,
            ["kind"] = kind,
            ["metadata"] = new JsonObject
            {
                ["name"] = name,
                ["namespace"] = "ci",
                ["labels"] = new JsonObject { ["k8s-webhook-handler.io/delivery"] = delivery },
                ["annotations"] = annotations,
            },
            ["spec"] = new JsonObject { ["entrypoint"] = "main" },
        };
    }

    private static JsonObject Phase(string phase) => new() { ["phase"] = phase };

    private static JsonObject Condition(string type, string status, string? reason = null) =>
        new() { ["conditions"] = new JsonArray(new JsonObject { ["type"] = type, ["status"] = status, ["reason"] = reason }) };

    [Fact]
    public async Task The_follower_lists_the_labelled_runs_then_reports_only_the_finished_ones_as_they_finish()
    {
        await using var fake = await FakeKubernetesApi.StartAsync(runsSucceed: false);
        fake.Seed(Run("argoproj.io/v1alpha1", "Workflow", "ci-running"));
        fake.Seed(Run("argoproj.io/v1alpha1", "Workflow", "ci-unannotated", annotated: false));
        var unlabelled = Run("argoproj.io/v1alpha1", "Workflow", "someone-elses");
        unlabelled["metadata"]!.AsObject().Remove("labels");
        fake.Seed(unlabelled);
        var observer = new RecordingRunObserver();
        await using var follower = await FollowerUnderTest.StartAsync(Config(fake), observer);

        await Eventually.Until(() => observer.ListsOf("Workflow").Count == 1 && observer.ListsOf("Job").Count == 1, Patience, "the first lists");
        var listed = Assert.Single(observer.ListsOf("Workflow")[0].Objects);
        Assert.Equal(("d-1", "octo/app", "refs/heads/main", "ci-running", RunResult.Running), (listed.Delivery, listed.Repository, listed.Ref, listed.Name, listed.Result));
        Assert.Equal("argoproj.io/v1alpha1", observer.ListsOf("Workflow")[0].ApiVersion);
        Assert.Empty(observer.ListsOf("Job")[0].Objects);

        fake.WriteStatus("argoproj.io/v1alpha1", "Workflow", "ci", "ci-running", Phase("Running"));
        fake.WriteStatus("argoproj.io/v1alpha1", "Workflow", "ci", "ci-unannotated", Phase("Succeeded"));
        fake.WriteStatus("argoproj.io/v1alpha1", "Workflow", "ci", "ci-running", new JsonObject { ["phase"] = "Failed", ["message"] = "step build failed" });

        await Eventually.Until(() => observer.Changes.Count > 0, Patience, "the failed workflow's report");
        var change = Assert.Single(observer.Changes);
        Assert.Equal(("ci-running", RunResult.Failure, "step build failed"), (change.Name, change.Result, change.Message));
        Assert.Equal(2, fake.OpenWatches);
    }

    [Fact]
    public async Task An_unfinished_run_deleted_is_reported_cancelled_and_a_finished_one_deleted_is_not_reported_again()
    {
        await using var fake = await FakeKubernetesApi.StartAsync(runsSucceed: false);
        fake.Seed(Run("batch/v1", "Job", "build-1"));
        fake.Seed(Run("batch/v1", "Job", "build-2"));
        var observer = new RecordingRunObserver();
        await using var follower = await FollowerUnderTest.StartAsync(Config(fake), observer);
        await Eventually.Until(() => observer.ListsOf("Job").Count == 1, Patience, "the first list of jobs");

        fake.WriteStatus("batch/v1", "Job", "ci", "build-1", Condition("Complete", "True"));
        await Eventually.Until(() => observer.Changes.Count == 1, Patience, "the completed job");
        await follower.Follower.StopAsync(new RunObjectRecord("batch/v1", "Job", "ci", "build-1", RunResult.Success), CancellationToken.None);
        await follower.Follower.StopAsync(new RunObjectRecord("batch/v1", "Job", "ci", "build-2", RunResult.Running), CancellationToken.None);

        await Eventually.Until(() => observer.Changes.Count == 2, Patience, "the deleted job");
        Assert.Equal(("build-1", RunResult.Success), (observer.Changes[0].Name, observer.Changes[0].Result));
        Assert.Equal(("build-2", RunResult.Cancelled, "deleted before it finished"), (observer.Changes[1].Name, observer.Changes[1].Result, observer.Changes[1].Message));
        Assert.DoesNotContain(fake.Objects, o => o["kind"]!.GetValue<string>() == "Job");
    }

    [Fact]
    public async Task A_dropped_watch_is_followed_by_a_new_list_that_shows_what_changed_meanwhile()
    {
        await using var fake = await FakeKubernetesApi.StartAsync(runsSucceed: false);
        fake.Seed(Run("argoproj.io/v1alpha1", "Workflow", "ci-a"));
        var observer = new RecordingRunObserver();
        await using var follower = await FollowerUnderTest.StartAsync(Config(fake), observer);
        await Eventually.Until(() => observer.ListsOf("Workflow").Count == 1 && fake.OpenWatches == 2, Patience, "the first list and watches");

        var release = new TaskCompletionSource();
        fake.Hold = r => r.Path.EndsWith("/workflows", StringComparison.Ordinal) && !r.Query.Contains("watch=true", StringComparison.Ordinal) ? release.Task : Task.CompletedTask;
        fake.DropWatches();
        await Eventually.Until(() => fake.Held == 1, Patience, "the new list of workflows");
        fake.WriteStatus("argoproj.io/v1alpha1", "Workflow", "ci", "ci-a", Phase("Succeeded"));
        release.SetResult();

        await Eventually.Until(() => observer.ListsOf("Workflow").Count == 2, Patience, "the new list after the lost connection");
        Assert.Equal(RunResult.Success, Assert.Single(observer.ListsOf("Workflow")[^1].Objects).Result);
        await Eventually.Until(() => fake.OpenWatches == 2, Patience, "the watches opened again");
        Assert.Contains(follower.Log.Entries, e => e.EventId == 64);
    }

    [Fact]
    public async Task A_watch_whose_resource_version_expired_is_answered_410_and_followed_by_a_new_list()
    {
        await using var fake = await FakeKubernetesApi.StartAsync(runsSucceed: false);
        fake.Seed(Run("argoproj.io/v1alpha1", "Workflow", "ci-a"));
        var observer = new RecordingRunObserver();
        await using var follower = await FollowerUnderTest.StartAsync(Config(fake), observer, watchTimeout: TimeSpan.FromSeconds(1));
        await Eventually.Until(() => observer.ListsOf("Workflow").Count == 1, Patience, "the first list");

        fake.ExpireHistory();

        await Eventually.Until(() => observer.ListsOf("Workflow").Count >= 2, Patience, "a new list after the 410");
        Assert.Contains(follower.Log.Entries, e => e.EventId == 63 && e.Message.Contains("Workflow", StringComparison.Ordinal));
        Assert.DoesNotContain(follower.Log.Entries, e => e.EventId == 64);
        fake.WriteStatus("argoproj.io/v1alpha1", "Workflow", "ci", "ci-a", Phase("Succeeded"));
        await Eventually.Until(() => observer.Changes.Count == 1, Patience, "the change seen by the new watch");
    }

    [Fact]
    public async Task A_report_the_observer_cannot_take_is_made_good_by_a_new_list()
    {
        await using var fake = await FakeKubernetesApi.StartAsync(runsSucceed: false);
        fake.Seed(Run("argoproj.io/v1alpha1", "Workflow", "ci-a"));
        var observer = new RecordingRunObserver { Refuse = _ => true };
        await using var follower = await FollowerUnderTest.StartAsync(Config(fake), observer);
        await Eventually.Until(() => observer.ListsOf("Workflow").Count == 1, Patience, "the first list");

        fake.WriteStatus("argoproj.io/v1alpha1", "Workflow", "ci", "ci-a", Phase("Succeeded"));

        await Eventually.Until(() => observer.ListsOf("Workflow").Count >= 2, Patience, "a new list after the refused report");
        Assert.Equal(RunResult.Success, observer.ListsOf("Workflow")[^1].Objects.Single().Result);
    }

    [Fact]
    public async Task A_run_kind_installed_after_start_is_followed_once_discovery_is_refreshed()
    {
        await using var fake = await FakeKubernetesApi.StartAsync(runsSucceed: false);
        var observer = new RecordingRunObserver();
        await using var follower = await FollowerUnderTest.StartAsync(Config(fake), observer, discoveryTtl: TimeSpan.FromMilliseconds(200));
        await Eventually.Until(() => follower.Log.Entries.Count(e => e.EventId == 62) == 2, Patience, "PipelineRun and TaskRun found missing");

        fake.ServeTekton();
        fake.Seed(Run("tekton.dev/v1", "PipelineRun", "pr-1"));
        await Eventually.Until(() => observer.ListsOf("PipelineRun").Count == 1 && observer.ListsOf("TaskRun").Count == 1, Patience, "the Tekton lists");
        fake.WriteStatus("tekton.dev/v1", "PipelineRun", "ci", "pr-1", Condition("Succeeded", "False", "Cancelled"));

        await Eventually.Until(() => observer.Changes.Count == 1, Patience, "the cancelled pipeline run");
        Assert.Equal(("PipelineRun", "tekton.dev/v1", RunResult.Cancelled), (observer.Changes[0].Kind, observer.Changes[0].ApiVersion, observer.Changes[0].Result));
        Assert.Equal(4, fake.OpenWatches);
    }

    [Fact]
    public async Task Following_costs_one_list_and_one_watch_per_kind_however_many_runs_there_are()
    {
        await using var fake = await FakeKubernetesApi.StartAsync(runsSucceed: false);
        for (var i = 0; i < 200; i++)
        {
            fake.Seed(Run("argoproj.io/v1alpha1", "Workflow", $"ci-{i}", delivery: $"d-{i}"));
        }

        var observer = new RecordingRunObserver();
        await using var follower = await FollowerUnderTest.StartAsync(Config(fake), observer);
        await Eventually.Until(() => observer.ListsOf("Workflow").Count == 1 && fake.OpenWatches == 2, Patience, "the first list and watches");
        for (var i = 0; i < 200; i++)
        {
            fake.WriteStatus("argoproj.io/v1alpha1", "Workflow", "ci", $"ci-{i}", Phase(i % 2 == 0 ? "Succeeded" : "Running"));
        }

        await Eventually.Until(() => observer.Changes.Count == 100, Patience, "the hundred finished workflows");
        var workflowRequests = fake.Requests.Where(r => r.Path.EndsWith("/workflows", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, workflowRequests.Count);
        Assert.Contains("watch=true", workflowRequests[1].Query, StringComparison.Ordinal);
        Assert.Equal(100, observer.Changes.Select(c => c.Delivery).Distinct().Count());
    }

    [Fact]
    public async Task A_ref_slow_to_take_its_report_does_not_hold_back_the_reports_of_other_refs()
    {
        await using var fake = await FakeKubernetesApi.StartAsync(runsSucceed: false);
        fake.Seed(Run("argoproj.io/v1alpha1", "Workflow", "ci-slow", delivery: "d-slow", gitRef: "refs/heads/slow"));
        fake.Seed(Run("argoproj.io/v1alpha1", "Workflow", "ci-other", delivery: "d-other"));
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var observer = new RecordingRunObserver { Hold = s => s.Ref == "refs/heads/slow" ? release.Task : Task.CompletedTask };
        await using var follower = await FollowerUnderTest.StartAsync(Config(fake), observer);
        await Eventually.Until(() => observer.ListsOf("Workflow").Count == 1 && fake.OpenWatches == 2, Patience, "the first list and watches");

        fake.WriteStatus("argoproj.io/v1alpha1", "Workflow", "ci", "ci-slow", Phase("Succeeded"));
        fake.WriteStatus("argoproj.io/v1alpha1", "Workflow", "ci", "ci-other", Phase("Failed"));

        // The other ref's report arrives while the slow ref still holds its own.
        await Eventually.Until(() => observer.Changes.Count == 1, Patience, "the other ref's report");
        Assert.Equal("ci-other", observer.Changes[0].Name);
        release.SetResult();
        await Eventually.Until(() => observer.Changes.Count == 2, Patience, "the slow ref's report");
        Assert.Equal("ci-slow", observer.Changes[1].Name);
        Assert.Equal(2, fake.OpenWatches);
    }

    [Fact]
    public async Task One_refs_reports_are_made_one_after_another_in_the_watchs_order()
    {
        await using var fake = await FakeKubernetesApi.StartAsync(runsSucceed: false);
        fake.Seed(Run("argoproj.io/v1alpha1", "Workflow", "ci-1", delivery: "d-1"));
        fake.Seed(Run("argoproj.io/v1alpha1", "Workflow", "ci-2", delivery: "d-2"));
        fake.Seed(Run("argoproj.io/v1alpha1", "Workflow", "ci-x", delivery: "d-x", gitRef: "refs/heads/other"));
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var observer = new RecordingRunObserver { Hold = s => s.Name == "ci-1" ? release.Task : Task.CompletedTask };
        await using var follower = await FollowerUnderTest.StartAsync(Config(fake), observer);
        await Eventually.Until(() => observer.ListsOf("Workflow").Count == 1 && fake.OpenWatches == 2, Patience, "the first list and watches");

        fake.WriteStatus("argoproj.io/v1alpha1", "Workflow", "ci", "ci-1", Phase("Succeeded"));
        fake.WriteStatus("argoproj.io/v1alpha1", "Workflow", "ci", "ci-2", Phase("Failed"));
        fake.WriteStatus("argoproj.io/v1alpha1", "Workflow", "ci", "ci-x", Phase("Succeeded"));

        // ci-x came after ci-2 in the watch, so ci-2 was read by the time ci-x is reported: it waits behind ci-1.
        await Eventually.Until(() => observer.Changes.Any(c => c.Name == "ci-x"), Patience, "the other ref's report");
        Assert.DoesNotContain(observer.Started, c => c.Name == "ci-2");
        release.SetResult();
        await Eventually.Until(() => observer.Changes.Count == 3, Patience, "the held ref's two reports");
        Assert.Equal(["ci-1", "ci-2"], observer.Changes.Where(c => c.Ref == "refs/heads/main").Select(c => c.Name));
    }

    [Fact]
    public async Task A_list_larger_than_a_page_is_read_page_by_page_and_one_whose_continue_token_expired_starts_over()
    {
        await using var fake = await FakeKubernetesApi.StartAsync(runsSucceed: false);
        var count = KubernetesRunFollower.ListPageSize * 2 + 7;
        for (var i = 0; i < count; i++)
        {
            fake.Seed(Run("argoproj.io/v1alpha1", "Workflow", $"ci-{i:D4}", delivery: $"d-{i}"));
        }

        // The first continued page finds its snapshot expired, as a compaction between pages would leave it.
        var expired = 0;
        fake.Hold = r =>
        {
            if (r.Path.EndsWith("/workflows", StringComparison.Ordinal) && r.Query.Contains("continue=", StringComparison.Ordinal) && Interlocked.Exchange(ref expired, 1) == 0)
            {
                fake.ExpireHistory();
            }

            return Task.CompletedTask;
        };
        var observer = new RecordingRunObserver();
        await using var follower = await FollowerUnderTest.StartAsync(Config(fake), observer);
        await Eventually.Until(() => observer.ListsOf("Workflow").Count == 1, Patience, "a whole list");

        var listed = Assert.Single(observer.ListsOf("Workflow"));
        Assert.Equal(count, listed.Objects.Count);
        Assert.Equal(count, listed.Objects.Select(s => s.Delivery).Distinct().Count());
        var lists = fake.Requests.Where(r => r.Path.EndsWith("/workflows", StringComparison.Ordinal) && !r.Query.Contains("watch=true", StringComparison.Ordinal)).ToList();
        Assert.Equal(["", "continue", "", "continue", "continue"], lists.Select(r => r.Query.Contains("continue=", StringComparison.Ordinal) ? "continue" : ""));
        Assert.All(lists, r => Assert.Contains($"limit={KubernetesRunFollower.ListPageSize}", r.Query, StringComparison.Ordinal));
        Assert.Equal(410, lists[1].Status);
    }

    [Fact]
    public async Task Without_a_run_observer_the_follower_does_not_start()
    {
        await using var fake = await FakeKubernetesApi.StartAsync(runsSucceed: false);
        await using var follower = await FollowerUnderTest.StartAsync(Config(fake), observer: null);

        await follower.Follower.ExecuteTask!;

        Assert.Empty(fake.Requests);
        Assert.Contains(follower.Log.Entries, e => e.EventId == 60);
    }

    [Theory]
    [InlineData("argoproj.io/v1alpha1", "Workflow", """{"spec":{"shutdown":"Terminate"}}""")]
    [InlineData("tekton.dev/v1", "PipelineRun", """{"spec":{"status":"Cancelled"}}""")]
    [InlineData("tekton.dev/v1", "TaskRun", """{"spec":{"status":"TaskRunCancelled"}}""")]
    public async Task Stopping_a_run_sends_its_kinds_merge_patch(string apiVersion, string kind, string patch)
    {
        await using var fake = await FakeKubernetesApi.StartAsync(runsSucceed: false);
        fake.ServeTekton();
        fake.Seed(Run(apiVersion, kind, "run-1"));
        await using var follower = await FollowerUnderTest.StartAsync(Config(fake), new RecordingRunObserver(), start: false);

        await follower.Follower.StopAsync(new RunObjectRecord(apiVersion, kind, "ci", "run-1", RunResult.Running), CancellationToken.None);

        var sent = Assert.Single(fake.Requests, r => r.Method == "PATCH");
        Assert.Equal(("application/merge-patch+json", 200), (sent.ContentType.Split(';')[0], sent.Status));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(patch), sent.Json), sent.Body);
        var stored = fake.Objects.Single();
        Assert.Equal(JsonNode.Parse(patch)!["spec"]!.AsObject().Single().Value!.GetValue<string>(),
            stored["spec"]![JsonNode.Parse(patch)!["spec"]!.AsObject().Single().Key]!.GetValue<string>());
        Assert.Equal("main", stored["spec"]!["entrypoint"]!.GetValue<string>());
    }

    [Fact]
    public async Task Stopping_a_job_deletes_it_in_the_background_and_stopping_one_that_is_gone_succeeds()
    {
        await using var fake = await FakeKubernetesApi.StartAsync(runsSucceed: false);
        fake.Seed(Run("batch/v1", "Job", "build-1"));
        await using var follower = await FollowerUnderTest.StartAsync(Config(fake), new RecordingRunObserver(), start: false);
        var run = new RunObjectRecord("batch/v1", "Job", "ci", "build-1", RunResult.Running);

        await follower.Follower.StopAsync(run, CancellationToken.None);
        await follower.Follower.StopAsync(run, CancellationToken.None);

        var deletes = fake.Requests.Where(r => r.Method == "DELETE").ToList();
        Assert.Equal([200, 404], deletes.Select(d => d.Status));
        Assert.All(deletes, d => Assert.Contains("propagationPolicy=Background", d.Query, StringComparison.Ordinal));
        Assert.Empty(fake.Objects);
    }

    [Fact]
    public async Task Stopping_a_run_while_the_server_fails_is_transient()
    {
        await using var fake = await FakeKubernetesApi.StartAsync(runsSucceed: false);
        fake.Seed(Run("argoproj.io/v1alpha1", "Workflow", "ci-a"));
        await using var follower = await FollowerUnderTest.StartAsync(Config(fake), new RecordingRunObserver(), start: false);
        fake.FailureRate = 1;

        var error = await Assert.ThrowsAsync<TransientException>(() =>
            follower.Follower.StopAsync(new RunObjectRecord("argoproj.io/v1alpha1", "Workflow", "ci", "ci-a", RunResult.Running), CancellationToken.None));

        Assert.Contains("stopping Workflow ci/ci-a: the API server answered 5", error.Message, StringComparison.Ordinal);
    }
}
