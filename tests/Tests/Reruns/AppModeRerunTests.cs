using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CiTrigger.Tests.EndToEnd;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.Reruns;

/// <summary>
/// GitHub's Re-run button in App mode: the check run's <c>external_id</c> is the delivery, the re-run gets a
/// check run of its own, and the webhooks GitHub sends about that check run trigger nothing (no loop).
/// </summary>
public class AppModeRerunTests
{
    private const long Installation = 57;

    /// <summary>
    /// A webhook about <paramref name="run"/> as GitHub sends it to the App, from the <c>check_run</c> example.
    /// </summary>
    private static string CheckRunWebhook(FakeGitHubApi.CheckRun run, string action, long appId)
    {
        var payload = JsonNode.Parse(Payloads.CheckRun(run.Repository, "main", run.HeadSha, action))!.AsObject();
        var checkRun = payload["check_run"]!.AsObject();
        checkRun["id"] = run.Id;
        checkRun["name"] = run.Name;
        checkRun["external_id"] = run.ExternalId;
        checkRun["status"] = run.Status;
        checkRun["conclusion"] = run.Conclusion;
        checkRun["app"]!["id"] = appId;
        return Payloads.Installed(payload.ToJsonString(), Installation);
    }

    /// <summary>
    /// A webhook about the App's check suite at <paramref name="headSha"/> on main, as GitHub sends it to the App,
    /// from the <c>check_suite</c> example.
    /// </summary>
    private static string CheckSuiteWebhook(string repository, string headSha, string action, long appId)
    {
        var payload = JsonNode.Parse(Payloads.CheckSuite(repository, "main", Payloads.Sha(1), headSha, action))!.AsObject();
        payload["check_suite"]!["head_sha"] = headSha;
        payload["check_suite"]!["app"]!["id"] = appId;
        return Payloads.Installed(payload.ToJsonString(), Installation);
    }

    private static async Task<(HttpStatusCode Status, JsonObject Body)> Answer(HttpResponseMessage response)
    {
        using var _ = response;
        return (response.StatusCode, (await response.Content.ReadFromJsonAsync<JsonObject>())!);
    }

    [Fact]
    public async Task A_rerequested_check_run_reruns_its_delivery_with_a_new_check_run_whose_webhooks_trigger_nothing()
    {
        AppIdentity? app = null;
        await using var env = await IsolatedService.StartAsync(github => (app = AppIdentity.Register(github)).Settings(new Dictionary<string, string>
        {
            ["GitHub:ReportStatus"] = "true",
            ["GitHub:StatusContext"] = "ci/trigger",

            // Every check_run action is admitted, so only the service's own rule can keep its check runs from looping.
            ["Handler:Actions"] = "check_run:created|completed|rerequested|requested_action",
        }));
        using var _ = app;
        env.GitHub.Install(app!.App, Installation, "octo/app-rerun");
        var repo = env.GitHub.Repo("octo/app-rerun");
        var after = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        var delivery = Guid.NewGuid().ToString();
        await env.Service.SendAsync("push", Payloads.Installed(Payloads.Push(repo.FullName, "refs/heads/main", Payloads.Sha(1), after), Installation), delivery);
        var original = await Eventually.Until(() => Task.FromResult(env.GitHub.CheckRuns.FirstOrDefault(r => r.Status == "completed")), TimeSpan.FromSeconds(20), "the push's check run");

        var (status, answer) = await Answer(await env.Service.SendAsync("check_run", CheckRunWebhook(original, "rerequested", app.Id)));
        var rerun = await Eventually.Until(
            () => Task.FromResult(env.GitHub.CheckRuns.FirstOrDefault(r => r.ExternalId == $"{delivery}-rerun-1" && r.Status == "completed")),
            TimeSpan.FromSeconds(20), "the re-run's completed check run");

        Assert.Equal((HttpStatusCode.Accepted, $"{delivery}-rerun-1"), (status, answer["delivery"]!.GetValue<string>()));
        Assert.Equal((after, "ci/trigger", "success"), (rerun.HeadSha, rerun.Name, rerun.Conclusion));
        Assert.Equal(2, env.Kubernetes.CreationsOf("Workflow").Count);

        // GitHub tells the App about both check runs' lifecycles; none of it may start anything.
        foreach (var (run, action) in new[] { (rerun, "created"), (rerun, "completed"), (original, "completed") })
        {
            var (ignoredStatus, ignored) = await Answer(await env.Service.SendAsync("check_run", CheckRunWebhook(run, action, app.Id)));
            Assert.Equal((HttpStatusCode.OK, "ignored"), (ignoredStatus, ignored["status"]!.GetValue<string>()));
            Assert.Contains("no loop", ignored["reason"]!.GetValue<string>(), StringComparison.Ordinal);
        }

        var state = await env.WaitForAsync(repo.FullName, "refs/heads/main", s => IsolatedService.Finished(s) == 2, "the push and its re-run");
        Assert.Equal(0, IsolatedService.Queued(state));
        Assert.Equal(2, env.GitHub.CheckRuns.Count);
        Assert.Equal(2, env.Kubernetes.CreationsOf("Workflow").Count);
    }

    [Fact]
    public async Task In_pipeline_mode_each_pipeline_has_its_check_run_and_re_running_one_re_applies_that_pipeline_alone()
    {
        AppIdentity? app = null;
        await using var env = await IsolatedService.StartAsync(github => (app = AppIdentity.Register(github)).Settings(new Dictionary<string, string>
        {
            [TriggerHost.PipelineMode] = "true",
            ["GitHub:ReportStatus"] = "true",
            ["GitHub:StatusContext"] = "ci/trigger",
        }));
        using var _ = app;
        env.GitHub.Install(app!.App, Installation, "octo/app-pipelines");
        var repo = env.GitHub.Repo("octo/app-pipelines");
        var after = repo.CommitFiles("main", new Dictionary<string, string>
        {
            [".ci/build.yaml"] = SampleManifest.Workflow,
            [".ci/docs.yaml"] = SampleManifest.Workflow.Replace("team: platform", "team: platform\n    k8s-webhook-handler.io/on-path-change: \"docs/**\"", StringComparison.Ordinal),
        });
        var delivery = Guid.NewGuid().ToString();
        var push = JsonNode.Parse(Payloads.Push(repo.FullName, "refs/heads/main", Payloads.Sha(1), after))!.AsObject();
        push["commits"] = new JsonArray(new JsonObject { ["id"] = after, ["added"] = new JsonArray(), ["removed"] = new JsonArray(), ["modified"] = new JsonArray("src/main.go") });
        await env.Service.SendAsync("push", Payloads.Installed(push.ToJsonString(), Installation), delivery);
        var checks = await Eventually.Until(
            () => Task.FromResult(env.GitHub.CheckRuns is { Count: 2 } runs && runs.All(r => r.Status == "completed") ? runs : null),
            TimeSpan.FromSeconds(20), "both pipelines' completed check runs");

        var build = checks.Single(r => r.Name == "ci/trigger/build");
        var docs = checks.Single(r => r.Name == "ci/trigger/docs");
        Assert.Equal(($"{delivery}/build", "success"), (build.ExternalId, build.Conclusion));
        Assert.Equal(($"{delivery}/docs", "skipped"), (docs.ExternalId, docs.Conclusion));
        Assert.Single(env.Kubernetes.CreationsOf("Workflow"));

        var (status, answer) = await Answer(await env.Service.SendAsync("check_run", CheckRunWebhook(build, "rerequested", app.Id)));
        Assert.Equal((HttpStatusCode.Accepted, $"{delivery}-rerun-1"), (status, answer["delivery"]!.GetValue<string>()));
        var rerun = await Eventually.Until(
            () => Task.FromResult(env.GitHub.CheckRuns.FirstOrDefault(r => r.ExternalId == $"{delivery}-rerun-1/build" && r.Status == "completed")),
            TimeSpan.FromSeconds(20), "the re-run's completed check run");

        await env.WaitForAsync(repo.FullName, "refs/heads/main", s => IsolatedService.Finished(s) == 2, "the push and its re-run");
        Assert.Equal(("ci/trigger/build", "success"), (rerun.Name, rerun.Conclusion));
        Assert.Equal(3, env.GitHub.CheckRuns.Count);
        Assert.Equal(2, env.Kubernetes.CreationsOf("Workflow").Count);
        Assert.All(env.Kubernetes.CreationsOf("Workflow"), c => Assert.Equal("build", c["metadata"]!["labels"]!["k8s-webhook-handler.io/pipeline"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_rerequested_check_run_of_another_app_is_handled_as_an_ordinary_check_run_event()
    {
        AppIdentity? app = null;
        await using var env = await IsolatedService.StartAsync(github => (app = AppIdentity.Register(github)).Settings());
        using var _ = app;
        env.GitHub.Install(app!.App, Installation, "octo/app-other");
        var repo = env.GitHub.Repo("octo/app-other");
        var after = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        var delivery = Guid.NewGuid().ToString();
        await env.Service.SendAsync("push", Payloads.Installed(Payloads.Push(repo.FullName, "refs/heads/main", Payloads.Sha(1), after), Installation), delivery);
        await env.WaitForAsync(repo.FullName, "refs/heads/main", s => IsolatedService.Finished(s) == 1, "the push");
        var foreign = new FakeGitHubApi.CheckRun(1, repo.FullName, app.Id + 1, after, "other-ci") { ExternalId = delivery, Status = "completed", Conclusion = "failure" };
        var asked = Guid.NewGuid().ToString();

        var (status, answer) = await Answer(await env.Service.SendAsync("check_run", CheckRunWebhook(foreign, "rerequested", app.Id + 1), asked));
        var state = await env.WaitForAsync(repo.FullName, "refs/heads/main", s => IsolatedService.Finished(s) == 2, "the check run event");

        Assert.Equal((HttpStatusCode.Accepted, asked), (status, answer["delivery"]!.GetValue<string>()));
        Assert.Equal(("check_run", ""), (state["history"]![0]!["event"]!["eventType"]!.GetValue<string>(), state["history"]![0]!["event"]!["rerunOf"]!.GetValue<string>()));
    }

    [Fact]
    public async Task The_apps_own_check_suites_trigger_nothing_even_when_handler_actions_admits_every_check_suite_action_but_a_rerequest_reruns()
    {
        AppIdentity? app = null;
        await using var env = await IsolatedService.StartAsync(github => (app = AppIdentity.Register(github)).Settings(new Dictionary<string, string>
        {
            ["GitHub:ReportStatus"] = "true",

            // check_suite is not listed, so every one of its actions passes the filter: only the service's own rule stops the loop.
            ["Handler:Actions"] = "check_run:rerequested",
        }));
        using var _ = app;
        env.GitHub.Install(app!.App, Installation, "octo/app-suite");
        var repo = env.GitHub.Repo("octo/app-suite");
        var after = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        var delivery = Guid.NewGuid().ToString();
        await env.Service.SendAsync("push", Payloads.Installed(Payloads.Push(repo.FullName, "refs/heads/main", Payloads.Sha(1), after), Installation), delivery);
        await env.WaitForAsync(repo.FullName, "refs/heads/main", s => IsolatedService.Finished(s) == 1, "the push");

        // GitHub asks the App for its suite on the push and reports the suite completed once its check run is.
        foreach (var action in new[] { "requested", "completed" })
        {
            var (ignoredStatus, ignored) = await Answer(await env.Service.SendAsync("check_suite", CheckSuiteWebhook(repo.FullName, after, action, app.Id)));
            Assert.Equal((HttpStatusCode.OK, "ignored"), (ignoredStatus, ignored["status"]!.GetValue<string>()));
            Assert.Contains("no loop", ignored["reason"]!.GetValue<string>(), StringComparison.Ordinal);
        }

        var (status, answer) = await Answer(await env.Service.SendAsync("check_suite", CheckSuiteWebhook(repo.FullName, after, "rerequested", app.Id)));
        // An event is in the history a moment before it leaves the queue (its record is written first), and the
        // ref's snapshot can fall between the two: wait for both.
        var state = await env.WaitForAsync(repo.FullName, "refs/heads/main",
            s => IsolatedService.Finished(s) == 2 && IsolatedService.Queued(s) == 0, "the push and its re-run, finished and out of the queue");

        Assert.Equal((HttpStatusCode.Accepted, $"{delivery}-rerun-1"), (status, answer["delivery"]!.GetValue<string>()));
        Assert.Equal([$"{delivery}-rerun-1", delivery], state["history"]!.AsArray().Select(h => h!["event"]!["delivery"]!.GetValue<string>()));
        Assert.Equal(0, IsolatedService.Queued(state));
        Assert.Equal(2, env.Kubernetes.CreationsOf("Workflow").Count);
    }
}
