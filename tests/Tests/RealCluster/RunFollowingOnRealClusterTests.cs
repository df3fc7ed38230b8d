using System.Text.Json.Nodes;
using CiTrigger.Grains.Abstractions;
using CiTrigger.Tests.Support;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Xunit;

namespace CiTrigger.Tests.RealCluster;

/// <summary>
/// The run follower against kube-apiserver v1.20 with the service account's token (so with exactly the
/// Role in k8s/). There is no controller: the tests write run objects' status through the status
/// subresource, as Argo's, the Job and Tekton's controllers do.
/// </summary>
[Collection(PipelineRunWriters.Name)]
public sealed class RunFollowingOnRealClusterTests(RealClusterFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static JsonObject Labelled(string apiVersion, string kind, string name, string delivery, JsonObject spec) => new()
    {
        ["apiVersion"] = apiVersion,
        ["kind"] = kind,
        ["metadata"] = new JsonObject
        {
            ["name"] = name,
            ["labels"] = new JsonObject { ["k8s-webhook-handler.io/delivery"] = delivery },
            ["annotations"] = new JsonObject
            {
                ["k8s-webhook-handler.io/delivery"] = delivery,
                ["k8s-webhook-handler.io/repo_name"] = "octo/follow",
                ["k8s-webhook-handler.io/ref"] = "refs/heads/main",
            },
        },
        ["spec"] = spec,
    };

    private static JsonObject JobSpec() => JsonNode.Parse("""
        {"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"build","image":"busybox"}]}}}
        """)!.AsObject();

    private static string Id() => Guid.NewGuid().ToString("N")[..8];

    private static Task CreateAsync(RealCluster cluster, string group, string version, string plural, JsonObject obj) =>
        cluster.Admin.CustomObjects.CreateNamespacedCustomObjectAsync(obj, group, version, RealCluster.Namespace, plural);

    /// <summary>Writes status through the status subresource, as the kind's controller would.</summary>
    private static Task WriteStatusAsync(RealCluster cluster, string group, string version, string plural, string name, string status) =>
        cluster.Admin.CustomObjects.PatchNamespacedCustomObjectStatusAsync(new V1Patch(JsonNode.Parse($$"""{"status":{{status}}}""")!, V1Patch.PatchType.MergePatch),
            group, version, RealCluster.Namespace, plural, name);

    private static Task<FollowerUnderTest> FollowAsync(RealCluster cluster, RecordingRunObserver? observer, bool start = true) =>
        FollowerUnderTest.StartAsync(RealCluster.Configuration(cluster.Server, cluster.ServiceAccountToken), observer, start: start);

    private static RunObjectState? Latest(RecordingRunObserver observer, string name) => observer.Changes.LastOrDefault(c => c.Name == name);

    [Fact]
    public async Task Workflows_whose_status_the_controller_writes_are_reported_and_one_deleted_unfinished_is_cancelled()
    {
        var cluster = await fixture.GetAsync();
        var id = Id();
        var observer = new RecordingRunObserver();
        await using var follower = await FollowAsync(cluster, observer);
        await Eventually.Until(() => observer.ListsOf("Workflow").Count > 0, Patience, "the first list of workflows");
        foreach (var name in new[] { "ok", "bad", "gone" })
        {
            await CreateAsync(cluster, "argoproj.io", "v1alpha1", "workflows", Labelled("argoproj.io/v1alpha1", "Workflow", $"{name}-{id}", $"d-{id}", new JsonObject { ["entrypoint"] = "main" }));
        }

        await WriteStatusAsync(cluster, "argoproj.io", "v1alpha1", "workflows", $"ok-{id}", """{"phase":"Running"}""");
        await WriteStatusAsync(cluster, "argoproj.io", "v1alpha1", "workflows", $"ok-{id}", """{"phase":"Succeeded"}""");
        await WriteStatusAsync(cluster, "argoproj.io", "v1alpha1", "workflows", $"bad-{id}", """{"phase":"Failed","message":"child 'bad' failed"}""");
        await cluster.Admin.CustomObjects.DeleteNamespacedCustomObjectAsync("argoproj.io", "v1alpha1", RealCluster.Namespace, "workflows", $"gone-{id}");

        await Eventually.Until(() => observer.Changes.Count(c => c.Delivery == $"d-{id}") == 3, Patience, "three reports");
        var mine = observer.Changes.Where(c => c.Delivery == $"d-{id}").ToDictionary(c => c.Name);
        Assert.Equal((RunResult.Success, (string?)null), (mine[$"ok-{id}"].Result, mine[$"ok-{id}"].Message));
        Assert.Equal((RunResult.Failure, "child 'bad' failed"), (mine[$"bad-{id}"].Result, mine[$"bad-{id}"].Message));
        Assert.Equal((RunResult.Cancelled, "deleted before it finished"), (mine[$"gone-{id}"].Result, mine[$"gone-{id}"].Message));
        Assert.Equal(("octo/follow", "refs/heads/main", "ci", "argoproj.io/v1alpha1"), (mine[$"ok-{id}"].Repository, mine[$"ok-{id}"].Ref, mine[$"ok-{id}"].Namespace, mine[$"ok-{id}"].ApiVersion));
    }

    [Fact]
    public async Task Jobs_the_job_controller_marks_complete_or_failed_are_reported()
    {
        var cluster = await fixture.GetAsync();
        var id = Id();
        var observer = new RecordingRunObserver();
        await using var follower = await FollowAsync(cluster, observer);
        await Eventually.Until(() => observer.ListsOf("Job").Count > 0, Patience, "the first list of jobs");
        await CreateAsync(cluster, "batch", "v1", "jobs", Labelled("batch/v1", "Job", $"ok-{id}", $"d-{id}", JobSpec()));
        await CreateAsync(cluster, "batch", "v1", "jobs", Labelled("batch/v1", "Job", $"bad-{id}", $"d-{id}", JobSpec()));

        await cluster.Admin.BatchV1.PatchNamespacedJobStatusAsync(new V1Patch(JsonNode.Parse("""{"status":{"active":1}}""")!, V1Patch.PatchType.MergePatch), $"ok-{id}", RealCluster.Namespace);
        await cluster.Admin.BatchV1.PatchNamespacedJobStatusAsync(new V1Patch(JsonNode.Parse("""
            {"status":{"succeeded":1,"conditions":[{"type":"Complete","status":"True","lastProbeTime":"2026-11-30T10:00:00Z","lastTransitionTime":"2026-11-30T10:00:00Z"}]}}
            """)!, V1Patch.PatchType.MergePatch), $"ok-{id}", RealCluster.Namespace);
        await cluster.Admin.BatchV1.PatchNamespacedJobStatusAsync(new V1Patch(JsonNode.Parse("""
            {"status":{"failed":3,"conditions":[{"type":"Failed","status":"True","reason":"BackoffLimitExceeded","message":"Job has reached the specified backoff limit","lastProbeTime":"2026-11-30T10:00:00Z","lastTransitionTime":"2026-11-30T10:00:00Z"}]}}
            """)!, V1Patch.PatchType.MergePatch), $"bad-{id}", RealCluster.Namespace);

        await Eventually.Until(() => observer.Changes.Count(c => c.Delivery == $"d-{id}") == 2, Patience, "two job reports");
        Assert.Equal(RunResult.Success, Latest(observer, $"ok-{id}")!.Result);
        Assert.Equal((RunResult.Failure, "Job has reached the specified backoff limit"), (Latest(observer, $"bad-{id}")!.Result, Latest(observer, $"bad-{id}")!.Message));
    }

    [Fact]
    public async Task A_follower_started_later_lists_the_current_states_and_one_whose_watch_expired_lists_again()
    {
        var cluster = await fixture.GetAsync();
        var id = Id();
        await CreateAsync(cluster, "tekton.dev", "v1", "pipelineruns", Labelled("tekton.dev/v1", "PipelineRun", $"pr-{id}", $"d-{id}", new JsonObject { ["pipelineRef"] = new JsonObject { ["name"] = "build" } }));
        await WriteStatusAsync(cluster, "tekton.dev", "v1", "pipelineruns", $"pr-{id}", """{"conditions":[{"type":"Succeeded","status":"False","reason":"Cancelled","message":"cancelled"}]}""");

        var observer = new RecordingRunObserver();
        await using var follower = await FollowAsync(cluster, observer);
        await Eventually.Until(() => observer.ListsOf("PipelineRun").Count > 0, Patience, "the first list of pipeline runs");
        var listed = Assert.Single(observer.ListsOf("PipelineRun")[0].Objects, o => o.Name == $"pr-{id}");
        Assert.Equal((RunResult.Cancelled, "tekton.dev/v1"), (listed.Result, listed.ApiVersion));

        // Changing a CRD's spec makes kube-apiserver rebuild the kind's storage and watch cache: open watches
        // end, and the new cache starts after every resourceVersion seen so far, so resuming is answered 410.
        await cluster.Admin.ApiextensionsV1.PatchCustomResourceDefinitionAsync(
            new V1Patch(JsonNode.Parse("{\"spec\":{\"names\":{\"shortNames\":[\"pr" + id + "\"]}}}")!, V1Patch.PatchType.MergePatch), "pipelineruns.tekton.dev");

        await Eventually.Until(() => observer.ListsOf("PipelineRun").Count > 1, Patience, "a new list of pipeline runs");
        Assert.Contains(follower.Log.Entries, e => e.EventId == 63 && e.Message.Contains("PipelineRun", StringComparison.Ordinal));
        await CreateAsync(cluster, "tekton.dev", "v1", "pipelineruns", Labelled("tekton.dev/v1", "PipelineRun", $"later-{id}", $"d-{id}", new JsonObject()));
        await WriteStatusAsync(cluster, "tekton.dev", "v1", "pipelineruns", $"later-{id}", """{"conditions":[{"type":"Succeeded","status":"True","reason":"Succeeded"}]}""");
        await Eventually.Until(() => Latest(observer, $"later-{id}") is { Result: RunResult.Success }, Patience, "the run finished after the new list");
    }

    [Fact]
    public async Task Runs_that_finish_while_their_kind_is_served_anew_are_each_reported()
    {
        var cluster = await fixture.GetAsync();
        var id = Id();
        var observer = new RecordingRunObserver();
        await using var follower = await FollowAsync(cluster, observer);
        await Eventually.Until(() => observer.ListsOf("PipelineRun").Count > 0, Patience, "the first list of pipeline runs");

        // The CRD change makes kube-apiserver build the kind's storage and watch cache again and tear the old ones
        // down a second or more later; runs finish before, during and after that, in both caches. Whether the
        // follower resumes its watch in the new cache or lists again, none of them may be missed.
        await cluster.Admin.ApiextensionsV1.PatchCustomResourceDefinitionAsync(
            new V1Patch(JsonNode.Parse("{\"spec\":{\"names\":{\"shortNames\":[\"prn" + id + "\"]}}}")!, V1Patch.PatchType.MergePatch), "pipelineruns.tekton.dev");
        var names = Enumerable.Range(0, 10).Select(i => $"n{i}-{id}").ToList();
        foreach (var name in names)
        {
            await CreateAsync(cluster, "tekton.dev", "v1", "pipelineruns", Labelled("tekton.dev/v1", "PipelineRun", name, $"d-{id}", new JsonObject()));
            await WriteStatusAsync(cluster, "tekton.dev", "v1", "pipelineruns", name, """{"conditions":[{"type":"Succeeded","status":"True","reason":"Succeeded"}]}""");

            // Spread over about 3 s, so some finish while the old cache is still being torn down.
            await Task.Delay(TimeSpan.FromMilliseconds(300), TestContext.Current.CancellationToken);
        }

        bool Reported(string name) =>
            observer.Changes.Any(c => c.Name == name && c.Result == RunResult.Success)
            || observer.ListsOf("PipelineRun").Any(l => l.Objects.Any(o => o.Name == name && o.Result == RunResult.Success));
        await Eventually.Until(() => names.All(Reported), Patience, "every finished run reported");
    }

    [Fact]
    public async Task Stopping_a_workflow_sets_its_shutdown_and_stopping_a_job_deletes_it()
    {
        var cluster = await fixture.GetAsync();
        var id = Id();
        await CreateAsync(cluster, "argoproj.io", "v1alpha1", "workflows", Labelled("argoproj.io/v1alpha1", "Workflow", $"stop-{id}", $"d-{id}", new JsonObject { ["entrypoint"] = "main" }));
        await CreateAsync(cluster, "batch", "v1", "jobs", Labelled("batch/v1", "Job", $"stop-{id}", $"d-{id}", JobSpec()));
        await CreateAsync(cluster, "tekton.dev", "v1", "taskruns", Labelled("tekton.dev/v1", "TaskRun", $"stop-{id}", $"d-{id}", new JsonObject()));
        await using var follower = await FollowAsync(cluster, observer: null, start: false);

        await follower.Follower.StopAsync(new RunObjectRecord("argoproj.io/v1alpha1", "Workflow", "ci", $"stop-{id}", RunResult.Running), CancellationToken.None);
        await follower.Follower.StopAsync(new RunObjectRecord("batch/v1", "Job", "ci", $"stop-{id}", RunResult.Running), CancellationToken.None);
        await follower.Follower.StopAsync(new RunObjectRecord("tekton.dev/v1", "TaskRun", "ci", $"stop-{id}", RunResult.Running), CancellationToken.None);
        await follower.Follower.StopAsync(new RunObjectRecord("batch/v1", "Job", "ci", $"stop-{id}", RunResult.Running), CancellationToken.None);

        var workflow = await cluster.WorkflowAsync($"stop-{id}");
        Assert.Equal("Terminate", workflow!["spec"]!["shutdown"]!.GetValue<string>());
        Assert.Equal("main", workflow["spec"]!["entrypoint"]!.GetValue<string>());
        var taskRun = System.Text.Json.JsonSerializer.SerializeToNode(
            await cluster.Admin.CustomObjects.GetNamespacedCustomObjectAsync("tekton.dev", "v1", RealCluster.Namespace, "taskruns", $"stop-{id}"))!;
        Assert.Equal("TaskRunCancelled", taskRun["spec"]!["status"]!.GetValue<string>());
        var job = await Assert.ThrowsAsync<HttpOperationException>(() => cluster.Admin.BatchV1.ReadNamespacedJobAsync($"stop-{id}", RealCluster.Namespace));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, job.Response.StatusCode);
    }

    [Fact]
    public async Task A_service_account_without_the_rights_is_told_once_per_kind_which_rule_to_add_while_following_keeps_trying()
    {
        var cluster = await fixture.GetAsync();
        var account = "no-runs-" + Id();
        await cluster.Admin.CoreV1.CreateNamespacedServiceAccountAsync(new V1ServiceAccount { Metadata = new V1ObjectMeta { Name = account } }, RealCluster.Namespace);
        var token = await RealCluster.TokenAsync(cluster.Admin, account);
        var lists = new CountingHandler("/workflows?");
        var observer = new RecordingRunObserver();

        await using var follower = await FollowerUnderTest.StartAsync(RealCluster.Configuration(cluster.Server, token), observer, handler: lists);
        await Eventually.Until(() => lists.Count >= 4, Patience, "several refused lists of workflows");

        var refusal = Assert.Single(follower.Log.Entries, e => e.EventId == 65 && e.Message.Contains("of kind Workflow", StringComparison.Ordinal));
        Assert.Contains($"the service account may not list workflows in ci: extend the Role in k8s/ (rbac.yaml) with {{apiGroups: [\"argoproj.io\"], resources: [\"workflows\"], verbs: [\"list\", \"watch\"]}}", refusal.Message, StringComparison.Ordinal);
        Assert.Equal(4, follower.Log.Entries.Count(e => e.EventId == 65));
        Assert.Empty(observer.Lists);
    }

    /// <summary>Counts the requests whose path and query contain a string.</summary>
    private sealed class CountingHandler(string contains) : DelegatingHandler
    {
        private int count;

        public int Count => Volatile.Read(ref count);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri!.PathAndQuery.Contains(contains, StringComparison.Ordinal))
            {
                Interlocked.Increment(ref count);
            }

            return base.SendAsync(request, cancellationToken);
        }
    }
}
