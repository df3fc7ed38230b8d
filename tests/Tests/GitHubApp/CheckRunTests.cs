using CiTrigger.Tests.EndToEnd;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.GitHubApp;

/// <summary>App mode reports each event as one check run: queued, in progress once applied, then completed.</summary>
public class CheckRunTests
{
    private const long Installation = 41;

    private static async Task<(IsolatedService Env, AppIdentity App, FakeGitHubApi.Repository Repo)> StartAsync(string repository)
    {
        AppIdentity? app = null;
        var env = await IsolatedService.StartAsync(github => (app = AppIdentity.Register(github)).Settings(new Dictionary<string, string>
        {
            ["GitHub:ReportStatus"] = "true",
            ["GitHub:StatusContext"] = "ci/trigger",
            ["GitHub:StatusTargetUrl"] = "https://argo.example.com/workflows/{namespace}/{name}?delivery={delivery}",
        }));
        env.GitHub.Install(app!.App, Installation, repository);
        return (env, app, env.GitHub.Repo(repository));
    }

    private static Task<HttpResponseMessage> PushAsync(IsolatedService env, FakeGitHubApi.Repository repo, string after, string? delivery = null) =>
        env.Service.SendAsync("push", Payloads.Installed(Payloads.Push(repo.FullName, "refs/heads/main", Payloads.Sha(1), after), Installation), delivery);

    private static Task<FakeGitHubApi.CheckRun> CompletedAsync(IsolatedService env) =>
        Eventually.Until(() => Task.FromResult(env.GitHub.CheckRuns.FirstOrDefault(r => r.Status == "completed")), TimeSpan.FromSeconds(20), "a completed check run");

    [Fact]
    public async Task An_event_gets_one_check_run_queued_when_accepted_in_progress_when_applied_and_then_completed()
    {
        var (env, app, repo) = await StartAsync("octo/checks");
        await using var _ = env;
        using var __ = app;
        var after = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        var delivery = Guid.NewGuid().ToString();

        await PushAsync(env, repo, after, delivery);
        var run = await CompletedAsync(env);

        var workflow = Assert.Single(env.Kubernetes.CreationsOf("Workflow"))["metadata"]!["name"]!.GetValue<string>();
        Assert.Same(run, Assert.Single(env.GitHub.CheckRuns));
        Assert.Equal(("ci/trigger", delivery, after), (run.Name, run.ExternalId, run.HeadSha));
        Assert.Equal(["queued", "in_progress", "completed"], run.History.Select(h => h["status"]!.GetValue<string>()));
        Assert.Equal("success", run.Conclusion);
        Assert.Equal($"https://argo.example.com/workflows/ci/{workflow}?delivery={delivery}", run.History[1]["details_url"]!.GetValue<string>());
        Assert.Equal($"applied Workflow {workflow}", run.Output!["title"]!.GetValue<string>());
        Assert.Contains($"- Workflow ci/{workflow}", run.Output["summary"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Empty(env.GitHub.Statuses);
    }

    [Fact]
    public async Task A_failed_event_completes_its_check_run_as_failure_with_the_reason()
    {
        var (env, app, repo) = await StartAsync("octo/checks-fail");
        await using var _ = env;
        using var __ = app;
        var after = repo.Commit("main", ".ci/workflow.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: elsewhere\n");

        await PushAsync(env, repo, after);
        var run = await CompletedAsync(env);

        Assert.Equal(["queued", "completed"], run.History.Select(h => h["status"]!.GetValue<string>()));
        Assert.Equal("failure", run.Conclusion);
        Assert.Contains("names namespace", run.Output!["summary"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failing_checks_api_costs_retries_and_never_the_event()
    {
        var (env, app, repo) = await StartAsync("octo/checks-down");
        await using var _ = env;
        using var __ = app;
        env.GitHub.CheckFailureRate = 1;
        var after = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);

        await PushAsync(env, repo, after);
        var state = await env.WaitForAsync(repo.FullName, "refs/heads/main", s => IsolatedService.Finished(s) == 1, "the event");
        await Eventually.Until(() => env.GitHub.Requests.Count(r => r.Path.Contains("check-runs", StringComparison.Ordinal)) >= 6, TimeSpan.FromSeconds(20), "retried check-run calls");

        Assert.Equal("applied", state["history"]![0]!["outcome"]!.GetValue<string>());
        Assert.Single(env.Kubernetes.CreationsOf("Workflow"));
        Assert.Empty(env.GitHub.CheckRuns);
    }

    [Fact]
    public async Task A_refused_check_run_call_is_not_retried_and_the_event_is_applied()
    {
        var (env, app, repo) = await StartAsync("octo/checks-denied");
        await using var _ = env;
        using var __ = app;
        env.GitHub.Install(app.App, Installation).Permissions.TryRemove("checks", out var ___);
        var after = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);

        await PushAsync(env, repo, after);
        var state = await env.WaitForAsync(repo.FullName, "refs/heads/main", s => IsolatedService.Finished(s) == 1, "the event");
        await Eventually.Until(() => env.GitHub.Requests.Count(r => r.Path.Contains("check-runs", StringComparison.Ordinal)) >= 2, TimeSpan.FromSeconds(20), "both reports tried");

        Assert.Equal("applied", state["history"]![0]!["outcome"]!.GetValue<string>());
        var calls = env.GitHub.Requests.Where(r => r.Path.Contains("check-runs", StringComparison.Ordinal)).ToList();
        Assert.All(calls, c => Assert.Equal(403, c.Status));
        Assert.Equal(["POST", "GET"], calls.Select(c => c.Method));
    }

    [Fact]
    public async Task When_the_queued_report_could_not_be_posted_the_outcome_still_gets_its_check_run()
    {
        var (env, app, repo) = await StartAsync("octo/checks-late");
        await using var _ = env;
        using var __ = app;
        env.GitHub.FailNextCheckRequests(3);
        var after = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        var delivery = Guid.NewGuid().ToString();

        await PushAsync(env, repo, after, delivery);
        var run = await CompletedAsync(env);

        Assert.Same(run, Assert.Single(env.GitHub.CheckRuns));
        Assert.Equal(delivery, run.ExternalId);
        Assert.Equal(["in_progress", "completed"], run.History.Select(h => h["status"]!.GetValue<string>()));
        Assert.Equal("success", run.Conclusion);
    }

    [Fact]
    public async Task A_process_that_did_not_create_the_check_run_finds_it_by_its_external_id_and_completes_it()
    {
        await using var github = await FakeGitHubApi.StartAsync();
        await using var kubernetes = await FakeKubernetesApi.StartAsync();
        using var app = AppIdentity.Register(github);
        github.Install(app.App, Installation, "octo/checks-restart");
        var repo = github.Repo("octo/checks-restart");
        var after = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        var dataPath = Directory.CreateTempSubdirectory("citrigger-checks-").FullName;
        var settings = app.Settings(new Dictionary<string, string> { ["GitHub:ReportStatus"] = "true", ["GitHub:StatusContext"] = "ci/trigger" });
        var delivery = Guid.NewGuid().ToString();

        // Accepted (and reported queued) by one process, held by a pause, applied by the next one.
        await using (var first = await TriggerHost.StartAsync(github, kubernetes, settings, dataPath: dataPath))
        {
            using var paused = await first.Client.PostAsync($"/admin/repos/{repo.FullName}/refs/heads/main/pause", null);
            Assert.True(paused.IsSuccessStatusCode);
            await first.SendAsync("push", Payloads.Installed(Payloads.Push(repo.FullName, "refs/heads/main", Payloads.Sha(1), after), Installation), delivery);
            await Eventually.Until(() => github.CheckRuns.Count == 1, TimeSpan.FromSeconds(20), "the queued check run");
        }

        await using var second = await TriggerHost.StartAsync(github, kubernetes, settings, dataPath: dataPath);
        using var resumed = await second.Client.PostAsync($"/admin/repos/{repo.FullName}/refs/heads/main/resume", null);
        var run = await Eventually.Until(() => Task.FromResult(github.CheckRuns.FirstOrDefault(r => r.Status == "completed")), TimeSpan.FromSeconds(20), "the completed check run");

        Assert.Same(run, Assert.Single(github.CheckRuns));
        Assert.Equal(delivery, run.ExternalId);
        Assert.Equal(["queued", "in_progress", "completed"], run.History.Select(h => h["status"]!.GetValue<string>()));
        Assert.Contains(github.Requests, r => r.Method == "GET" && r.Path == $"/api/v3/repos/{repo.FullName}/commits/{after}/check-runs");
    }

    [Fact]
    public async Task The_webhooks_about_its_own_check_runs_do_not_trigger_runs()
    {
        var (env, app, repo) = await StartAsync("octo/checks-loop");
        await using var _ = env;
        using var __ = app;
        string CheckRun(long creator, string action = "created")
        {
            var payload = System.Text.Json.Nodes.JsonNode.Parse(Payloads.CheckRun(repo.FullName, "main", Payloads.Sha(9), action))!.AsObject();
            payload["check_run"]!["app"]!["id"] = creator;
            return Payloads.Installed(payload.ToJsonString(), Installation);
        }

        using var own = await env.Service.SendAsync("check_run", CheckRun(app.Id));
        using var others = await env.Service.SendAsync("check_run", CheckRun(app.Id + 1, "rerequested"));

        // Ignored as the service's own check run, before the Handler:Actions filter would have said so.
        Assert.Equal(200, (int)own.StatusCode);
        var answer = await own.Content.ReadAsStringAsync();
        Assert.Contains("\"status\":\"ignored\"", answer, StringComparison.Ordinal);
        Assert.Contains("a check run this service reports", answer, StringComparison.Ordinal);
        Assert.Equal(202, (int)others.StatusCode);
    }

    [Fact]
    public async Task A_pull_request_held_for_approval_completes_action_required_at_the_pull_request_and_its_approval_gets_a_new_check_run()
    {
        AppIdentity? app = null;
        await using var env = await IsolatedService.StartAsync(github => (app = AppIdentity.Register(github)).Settings(new Dictionary<string, string>
        {
            ["GitHub:ReportStatus"] = "true",
            ["GitHub:StatusContext"] = "ci/trigger",
            ["Handler:Events"] = "push,pull_request,issue_comment",
        }));
        using var identity = app!;
        env.GitHub.Install(identity.App, Installation, "octo/checks-pr", "someone/checks-fork");
        var repo = env.GitHub.Repo("octo/checks-pr");
        var baseSha = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        var head = env.GitHub.Repo("someone/checks-fork").Commit("feature", ".ci/workflow.yaml", SampleManifest.Workflow);

        // GitHub keeps a pull request's head in the base repository too (refs/pull/N/head): its checks live there.
        repo.Commit("pull/12/head", ".ci/workflow.yaml", SampleManifest.Workflow, head);

        using var opened = await env.Service.SendAsync("pull_request",
            Payloads.Installed(Payloads.PullRequest(repo.FullName, 12, "opened", head, baseSha, "NONE", "someone/checks-fork"), Installation));
        Assert.Equal(202, (int)opened.StatusCode);
        var held = await CompletedAsync(env);

        Assert.Equal(("action_required", head), (held.Conclusion, held.HeadSha));
        Assert.Equal("https://github.com/octo/checks-pr/pull/12", held.DetailsUrl);
        Assert.Empty(env.Kubernetes.Creations);

        using var approved = await env.Service.SendAsync("issue_comment",
            Payloads.Installed(Payloads.IssueComment(repo.FullName, 12, "/ok-to-test", "MEMBER"), Installation));
        var run = await Eventually.Until(
            () => Task.FromResult(env.GitHub.CheckRuns.FirstOrDefault(r => r != held && r.Status == "completed")), TimeSpan.FromSeconds(20), "the approved event's check run");

        Assert.Equal(202, (int)approved.StatusCode);
        Assert.Equal((held.ExternalId, "success"), (run.ExternalId, run.Conclusion));
        Assert.Equal(["queued", "in_progress", "completed"], run.History.Select(h => h["status"]!.GetValue<string>()));
        Assert.Equal("action_required", held.Conclusion);
        Assert.Single(env.Kubernetes.CreationsOf("Workflow"));
    }

    [Fact]
    public async Task An_event_without_a_revision_gets_no_check_run()
    {
        var (env, app, repo) = await StartAsync("octo/checks-delete");
        await using var _ = env;
        using var __ = app;
        var after = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);

        await env.Service.SendAsync("delete", Payloads.Installed(Payloads.Delete(repo.FullName, "feature"), Installation));
        await env.WaitForAsync(repo.FullName, "refs/heads/feature", s => IsolatedService.Finished(s) == 1, "the delete");
        var delivery = Guid.NewGuid().ToString();
        await PushAsync(env, repo, after, delivery);
        await CompletedAsync(env);

        Assert.Equal(delivery, Assert.Single(env.GitHub.CheckRuns).ExternalId);
    }
}
