using CiTrigger.Grains.GitHub;
using CiTrigger.Tests.EndToEnd;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.Operations;

public class CommitStatusTests
{
    private static Dictionary<string, string> Reporting() => new()
    {
        ["GitHub:ReportStatus"] = "true",
        ["GitHub:StatusContext"] = "ci/trigger",
        ["GitHub:StatusTargetUrl"] = "https://argo.example.com/workflows/{namespace}/{name}?delivery={delivery}",
    };

    [Fact]
    public async Task An_event_is_reported_pending_when_accepted_and_success_when_applied()
    {
        await using var env = await IsolatedService.StartAsync(Reporting());
        var repo = env.GitHub.Repo("octo/status");
        var after = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        var delivery = Guid.NewGuid().ToString();

        await env.Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/main", Payloads.Sha(1), after), delivery);
        await Eventually.Until(() => env.GitHub.Statuses.Count == 2, TimeSpan.FromSeconds(20), "two statuses");

        var posts = env.GitHub.Requests.Where(r => r.Method == "POST").ToList();
        Assert.All(posts, p => Assert.Equal($"/api/v3/repos/{repo.FullName}/statuses/{after}", p.Path));
        var (pending, success) = (env.GitHub.Statuses[0], env.GitHub.Statuses[1]);
        Assert.Equal(("pending", "ci/trigger", "queued"), (pending["state"]!.GetValue<string>(), pending["context"]!.GetValue<string>(), pending["description"]!.GetValue<string>()));
        Assert.Equal("success", success["state"]!.GetValue<string>());
        var workflow = Assert.Single(env.Kubernetes.Creations)["metadata"]!["name"]!.GetValue<string>();
        Assert.Equal($"applied Workflow {workflow}", success["description"]!.GetValue<string>());
        Assert.Equal($"https://argo.example.com/workflows/ci/{workflow}?delivery={delivery}", success["target_url"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_failed_event_is_reported_as_failure_with_a_description_github_accepts()
    {
        await using var env = await IsolatedService.StartAsync(Reporting());
        var repo = env.GitHub.Repo("octo/status-fail");
        var after = repo.Commit("main", ".ci/workflow.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: " + new string('n', 60) + "\n");

        await env.Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/main", Payloads.Sha(1), after));
        await Eventually.Until(() => env.GitHub.Statuses.Count == 2, TimeSpan.FromSeconds(20), "two statuses");

        var failure = env.GitHub.Statuses[1];
        Assert.Equal("failure", failure["state"]!.GetValue<string>());
        Assert.Contains("names namespace", failure["description"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.True(failure["description"]!.GetValue<string>().Length <= 140);
    }

    [Fact]
    public async Task A_failing_status_api_never_holds_up_or_fails_the_event()
    {
        await using var env = await IsolatedService.StartAsync(Reporting());
        env.GitHub.StatusFailureRate = 1;
        var repo = env.GitHub.Repo("octo/status-down");
        var after = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);

        await env.Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/main", Payloads.Sha(1), after));
        var state = await env.WaitForAsync(repo.FullName, "refs/heads/main", s => IsolatedService.Finished(s) == 1, "the event");
        await Eventually.Until(() => env.GitHub.Requests.Count(r => r.Method == "POST") >= 2, TimeSpan.FromSeconds(20), "status attempts");

        Assert.Equal("applied", state["history"]![0]!["outcome"]!.GetValue<string>());
        Assert.Single(env.Kubernetes.Creations);
        Assert.Empty(env.GitHub.Statuses);
    }

    [Fact]
    public async Task A_slow_status_of_one_commit_does_not_hold_up_other_commits_and_one_commits_statuses_stay_in_order()
    {
        await using var env = await IsolatedService.StartAsync(Reporting());
        var repo = env.GitHub.Repo("octo/status-lanes");
        var slow = repo.Commit("slow", ".ci/workflow.yaml", SampleManifest.Workflow);
        var fast = Enumerable.Range(100, 100).Select(Payloads.Sha).First(sha => Lane(repo.FullName, sha) != Lane(repo.FullName, slow));
        repo.Commit("fast", ".ci/workflow.yaml", SampleManifest.Workflow, fast);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        env.GitHub.Hold = r => r.Method == "POST" && r.Path.EndsWith("/statuses/" + slow, StringComparison.Ordinal) ? release.Task : Task.CompletedTask;

        await env.Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/slow", Payloads.Sha(1), slow));
        await env.WaitForAsync(repo.FullName, "refs/heads/slow", s => IsolatedService.Finished(s) == 1, "the slow commit's event");
        await env.Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/fast", Payloads.Sha(2), fast));

        // The other commit's pending and success are posted while the first commit's pending is still held.
        await Eventually.Until(() => env.GitHub.Statuses.Count == 2, TimeSpan.FromSeconds(20), "the other commit's two statuses");
        Assert.All(env.GitHub.Requests.Where(r => r.Method == "POST"), p => Assert.EndsWith("/statuses/" + fast, p.Path, StringComparison.Ordinal));

        release.SetResult();
        await Eventually.Until(() => env.GitHub.Statuses.Count == 4, TimeSpan.FromSeconds(20), "all four statuses");
        var slowStates = env.GitHub.Requests.Where(r => r.Method == "POST" && r.Path.EndsWith("/statuses/" + slow, StringComparison.Ordinal))
            .Select(r => System.Text.Json.Nodes.JsonNode.Parse(r.Body)!["state"]!.GetValue<string>());
        Assert.Equal(["pending", "success"], slowStates);
    }

    private static int Lane(string repository, string sha) =>
        ReportLane.Of(GitHubCommitStatusReporter.LaneKey(repository, sha), GitHubCommitStatusReporter.Lanes);

    [Fact]
    public async Task Without_report_status_no_status_is_posted()
    {
        await using var env = await IsolatedService.StartAsync();
        var repo = env.GitHub.Repo("octo/status-off");
        var after = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);

        await env.Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/main", Payloads.Sha(1), after));
        await env.WaitForAsync(repo.FullName, "refs/heads/main", s => IsolatedService.Finished(s) == 1, "the event");

        Assert.DoesNotContain(env.GitHub.Requests, r => r.Method == "POST");
    }

    [Fact]
    public async Task A_waiting_pull_request_is_reported_pending_waiting_for_ok_to_test_until_approved()
    {
        var settings = Reporting();
        settings["Handler:Events"] = "pull_request,issue_comment";
        await using var env = await IsolatedService.StartAsync(settings);
        var repo = env.GitHub.Repo("octo/status-pr");
        var fork = env.GitHub.Repo("stranger/status-pr");
        var baseSha = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        var head = fork.Commit("feature", ".ci/workflow.yaml", SampleManifest.Workflow);

        // GitHub keeps a pull request's head commits in the base repository too (refs/pull/N/head).
        repo.Commits.Add(head);
        await env.Service.SendAsync("pull_request", Payloads.PullRequest(repo.FullName, 2, "opened", head, baseSha, "NONE", fork.FullName));
        await Eventually.Until(() => env.GitHub.Statuses.Count == 1, TimeSpan.FromSeconds(20), "the waiting status");
        var waiting = env.GitHub.Statuses[0];
        await env.Service.SendAsync("issue_comment", Payloads.IssueComment(repo.FullName, 2, "/ok-to-test", "OWNER"));
        await Eventually.Until(() => env.GitHub.Statuses.Count == 3, TimeSpan.FromSeconds(20), "approved and applied");

        Assert.Equal(("pending", "waiting for /ok-to-test"), (waiting["state"]!.GetValue<string>(), waiting["description"]!.GetValue<string>()));
        Assert.Equal(["pending", "pending", "success"], env.GitHub.Statuses.Select(s => s["state"]!.GetValue<string>()));
        Assert.All(env.GitHub.Requests.Where(r => r.Method == "POST"), p => Assert.Equal($"/api/v3/repos/{repo.FullName}/statuses/{head}", p.Path));
        Assert.DoesNotContain(env.GitHub.Requests, r => r.Path.Contains(fork.FullName, StringComparison.Ordinal));
    }
}
