using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.EndToEnd;

/// <summary>Steering a stuck or busy ref: retry and skip the head of its queue, pause and resume it.</summary>
public class AdminActionTests
{
    private static async Task<(HttpStatusCode, JsonObject)> Post(IsolatedService env, string path)
    {
        using var response = await env.Service.Client.PostAsync(path, null);
        return (response.StatusCode, (await response.Content.ReadFromJsonAsync<JsonObject>())!);
    }

    [Fact]
    public async Task Retry_attempts_the_head_now_instead_of_after_its_backoff()
    {
        await using var env = await IsolatedService.StartAsync(new Dictionary<string, string>
        {
            ["Handler:RetryBaseDelay"] = "00:02:00",
            ["Handler:RetryMaxDelay"] = "00:04:00",
        });
        var repo = env.GitHub.Repo("octo/retry");
        var after = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        await env.Kubernetes.RefuseConnectionsAsync();
        await env.Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/main", Payloads.Sha(1), after));
        var waiting = await env.WaitForAsync(repo.FullName, "refs/heads/main", s => s["queue"]!.AsArray() is [{ } head] && head["notBefore"] is not null, "a backoff");
        await env.Kubernetes.ResumeAsync();

        var (status, answer) = await Post(env, $"/admin/repos/{repo.FullName}/refs/heads/main/retry");

        // The backoff would last at least a minute; the retry makes it seconds.
        await env.WaitForAsync(repo.FullName, "refs/heads/main", s => IsolatedService.Finished(s) == 1, "the retried event", seconds: 30);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(waiting["queue"]![0]!["event"]!["delivery"]!.GetValue<string>(), answer["delivery"]!.GetValue<string>());
        Assert.True(waiting["queue"]![0]!["notBefore"]!.GetValue<DateTimeOffset>() > DateTimeOffset.UtcNow.AddSeconds(30));
        Assert.Single(env.Kubernetes.Creations);
    }

    [Fact]
    public async Task Skip_drops_a_stuck_head_records_it_and_lets_the_rest_of_the_queue_move()
    {
        await using var env = await IsolatedService.StartAsync(new Dictionary<string, string>
        {
            ["Handler:RetryBaseDelay"] = "00:00:00.500",
            ["Handler:RetryMaxDelay"] = "00:00:01",
        });
        var repo = env.GitHub.Repo("octo/skip");
        var stuck = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        var next = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        await env.Kubernetes.RefuseConnectionsAsync();
        var stuckDelivery = Guid.NewGuid().ToString();
        await env.Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/main", Payloads.Sha(1), stuck), stuckDelivery);
        await env.WaitForAsync(repo.FullName, "refs/heads/main", s => s["queue"]!.AsArray() is [{ } head] && head["attempts"]!.AsArray().Count > 0 && s["inFlight"] is null, "a failed attempt");

        var (status, answer) = await Post(env, $"/admin/repos/{repo.FullName}/refs/heads/main/skip");
        await env.Kubernetes.ResumeAsync();
        await env.Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/main", stuck, next));
        var state = await env.WaitForAsync(repo.FullName, "refs/heads/main", s => IsolatedService.Finished(s) == 2, "the next event");
        using var redelivered = await env.Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/main", Payloads.Sha(1), stuck), stuckDelivery);

        Assert.Equal((HttpStatusCode.OK, stuckDelivery), (status, answer["delivery"]!.GetValue<string>()));
        Assert.Equal(("skipped", "applied"), (state["history"]![1]!["outcome"]!.GetValue<string>(), state["history"]![0]!["outcome"]!.GetValue<string>()));
        Assert.Equal([next], env.Kubernetes.Creations.Select(c => c["metadata"]!["annotations"]!["k8s-webhook-handler.io/revision"]!.GetValue<string>()));
        Assert.Equal("duplicate", (await redelivered.Content.ReadFromJsonAsync<JsonObject>())!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_paused_ref_queues_events_without_processing_them_until_resumed()
    {
        await using var env = await IsolatedService.StartAsync();
        var repo = env.GitHub.Repo("octo/pause");
        var after = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);

        var (paused, _) = await Post(env, $"/admin/repos/{repo.FullName}/refs/heads/main/pause");
        using var accepted = await env.Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/main", Payloads.Sha(1), after));
        var listed = await Eventually.Until(async () =>
        {
            var page = await env.Service.Client.GetFromJsonAsync<JsonObject>("/admin/refs?state=paused");
            return page!["refs"]!.AsArray() is [{ } entry] && entry["queueLength"]!.GetValue<int>() == 1 ? entry : null;
        }, TimeSpan.FromSeconds(10), "the paused ref with its queued event in the catalog");
        var whilePaused = (await env.StateAsync(repo.FullName, "refs/heads/main"))!;
        var createsWhilePaused = env.Kubernetes.Creations.Count;
        var (resumed, _) = await Post(env, $"/admin/repos/{repo.FullName}/refs/heads/main/resume");
        await env.WaitForAsync(repo.FullName, "refs/heads/main", s => IsolatedService.Finished(s) == 1, "the event after resuming");

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.Accepted, HttpStatusCode.OK), (paused, accepted.StatusCode, resumed));
        Assert.True(whilePaused["paused"]!.GetValue<bool>());
        Assert.Single(whilePaused["queue"]!.AsArray());
        Assert.Equal(0, createsWhilePaused);
        Assert.Single(env.Kubernetes.Creations);
    }

    [Fact]
    public async Task Retry_or_skip_of_an_empty_queue_is_a_conflict_and_unknown_actions_are_not_found()
    {
        await using var env = await IsolatedService.StartAsync();

        var (retry, retryAnswer) = await Post(env, "/admin/repos/octo/idle/refs/heads/main/retry");
        var (skip, _) = await Post(env, "/admin/repos/octo/idle/refs/heads/main/skip");
        var (unknown, _) = await Post(env, "/admin/repos/octo/idle/refs/heads/main/explode");

        Assert.Equal((HttpStatusCode.Conflict, HttpStatusCode.Conflict, HttpStatusCode.NotFound), (retry, skip, unknown));
        Assert.Equal("the queue is empty", retryAnswer["error"]!.GetValue<string>());
    }
}
