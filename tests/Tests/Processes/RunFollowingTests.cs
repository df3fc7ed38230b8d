using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using Xunit;
using static CiTrigger.Tests.Processes.FollowingEnv;

namespace CiTrigger.Tests.Processes;

/// <summary>
/// Run following end to end: the service's own follower watches the fake Kubernetes API, the test plays the
/// Argo controller by writing a Workflow's status (a JSON merge patch, as a controller may), and the check
/// run in the fake GitHub (App mode) completes with the run's result. Needs the Kubernetes side of run
/// following (the follower and the fake's list, watch, merge patch and delete).
/// </summary>
public class RunFollowingTests
{
    private const long Installation = FollowingEnv.Installation;

    private static async Task<string> PullRequestAsync(HttpClient client, FakeGitHubApi.Repository repo, string action, string head, string baseSha)
    {
        var delivery = Guid.NewGuid().ToString();
        var body = Payloads.Installed(Payloads.PullRequest(repo.FullName, 12, action, head, baseSha, "MEMBER"), Installation);
        using var answer = await client.SendAsync(TriggerHost.Webhook("pull_request", Encoding.UTF8.GetBytes(body), "application/json", delivery));
        Assert.Equal(HttpStatusCode.Accepted, answer.StatusCode);
        return delivery;
    }

    [Fact]
    public async Task In_redis_mode_a_run_unfinished_when_its_silo_is_killed_is_completed_by_the_survivor()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var github = await FakeGitHubApi.StartAsync();
        await using var kubernetes = await FakeKubernetesApi.StartAsync(runsSucceed: false);
        using var app = AppIdentity.Register(github);
        github.Install(app.App, Installation, "octo/follow-failover");
        var repo = github.Repo("octo/follow-failover");
        var directory = Directory.CreateTempSubdirectory("citrigger-follow-").FullName;
        Dictionary<string, string> SiloSettings() => Settings(github, kubernetes, app, directory, ServiceSettings.RedisSilo(redis.ConnectionString));
        await using var survivor = await SiloProcess.StartAsync(SiloSettings());
        var doomed = await SiloProcess.StartAsync(SiloSettings());

        // The ref is placed on the silo that received the webhook: its run is followed there until it dies.
        var delivery = await PushAsync(doomed.Client, repo, 1);
        await CheckAsync(github, delivery, "in_progress", doomed.Output);
        await doomed.KillAsync();
        WriteStatus(kubernetes, NameOf(Assert.Single(kubernetes.CreationsOf("Workflow"))), "Succeeded");

        var done = await CheckAsync(github, delivery, "completed", survivor.Output, seconds: 90);
        Assert.Equal("success", done.Conclusion);
        var record = await Eventually.Until(async () => await survivor.Client.GetFromJsonAsync<JsonObject>($"/admin/deliveries/{delivery}") is { } r
            && r["status"]!.GetValue<string>() == "succeeded" ? r : null, TimeSpan.FromSeconds(20), "the delivery succeeded");
        Assert.Equal("success", record["result"]!["run"]!["result"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_failed_workflow_fails_the_check_and_a_deleted_one_cancels_it()
    {
        await using var env = await FollowingEnv.StartAsync("octo/follow");
        var (github, kubernetes, repo) = (env.GitHub, env.Kubernetes, env.Repo);
        await using var service = await env.ServiceAsync();

        var failing = await PushAsync(service.Client, repo, 1);
        await CheckAsync(github, failing, "in_progress");
        WriteStatus(kubernetes, NameOf(kubernetes.CreationsOf("Workflow")[0]), "Failed", "child 'build' failed");
        var failed = await CheckAsync(github, failing, "completed");
        Assert.Equal("failure", failed.Conclusion);
        Assert.EndsWith("failed: child 'build' failed", failed.Output!["summary"]!.GetValue<string>(), StringComparison.Ordinal);

        var deleted = await PushAsync(service.Client, repo, 2);
        await CheckAsync(github, deleted, "in_progress");
        using (var client = Client(kubernetes))
        using (var answer = await client.DeleteAsync($"apis/argoproj.io/v1alpha1/namespaces/ci/workflows/{NameOf(kubernetes.CreationsOf("Workflow")[1])}"))
        {
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        }

        Assert.Equal("cancelled", (await CheckAsync(github, deleted, "completed")).Conclusion);
    }

    [Fact]
    public async Task A_run_that_finishes_before_its_event_is_recorded_completes_its_check()
    {
        // The fake plays a controller that finishes each Workflow at once: the watch reports it succeeded
        // while the ref is still recording the event that created it.
        await using var env = await FollowingEnv.StartAsync("octo/follow-fast", runsSucceed: true);
        var (github, repo) = (env.GitHub, env.Repo);
        await using var service = await env.ServiceAsync();

        var deliveries = new List<string>();
        for (var n = 1; n <= 5; n++)
        {
            deliveries.Add(await PushAsync(service.Client, repo, n));
        }

        foreach (var delivery in deliveries)
        {
            Assert.Equal("success", (await CheckAsync(github, delivery, "completed")).Conclusion);
        }
    }

    [Fact]
    public async Task With_cancel_superseded_the_earlier_workflow_is_told_to_terminate()
    {
        await using var env = await FollowingEnv.StartAsync("octo/follow-supersede");
        var (github, kubernetes, repo) = (env.GitHub, env.Kubernetes, env.Repo);
        await using var service = await env.ServiceAsync(new Dictionary<string, string> { ["Handler:CancelSuperseded"] = "true" });

        var first = await PushAsync(service.Client, repo, 1);
        await CheckAsync(github, first, "in_progress");
        var second = await PushAsync(service.Client, repo, 2);

        Assert.Equal("cancelled", (await CheckAsync(github, first, "completed")).Conclusion);
        var name = NameOf(kubernetes.CreationsOf("Workflow")[0]);
        await Eventually.Until(() => kubernetes.Objects.Any(o => o["metadata"]!["name"]!.GetValue<string>() == name
            && o["spec"]?["shutdown"]?.GetValue<string>() == "Terminate"), TimeSpan.FromSeconds(20), "the first workflow told to terminate");
        Assert.Equal("in_progress", github.CheckRuns.Single(r => r.ExternalId == second).Status);
    }

    [Fact]
    public async Task With_cancel_superseded_closing_a_pull_request_tells_its_running_workflow_to_terminate_and_cancels_its_check()
    {
        await using var env = await FollowingEnv.StartAsync("octo/follow-closed");
        var (github, kubernetes, repo) = (env.GitHub, env.Kubernetes, env.Repo);
        await using var service = await env.ServiceAsync(new Dictionary<string, string>
        {
            ["Handler:CancelSuperseded"] = "true",
            ["Handler:Events"] = "push,pull_request",
        });
        var baseSha = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        var head = repo.Commit("feature", ".ci/workflow.yaml", SampleManifest.Workflow);

        var opened = await PullRequestAsync(service.Client, repo, "opened", head, baseSha);
        await CheckAsync(github, opened, "in_progress");
        var name = NameOf(Assert.Single(kubernetes.CreationsOf("Workflow")));
        var closed = await PullRequestAsync(service.Client, repo, "closed", head, baseSha);

        var cancelled = await CheckAsync(github, opened, "completed");
        Assert.Equal("cancelled", cancelled.Conclusion);
        Assert.Equal($"Workflow {name} was cancelled: the pull request was closed ({closed})", cancelled.Output!["summary"]!.GetValue<string>());
        var stop = await Eventually.Until(() => Task.FromResult(kubernetes.Requests.FirstOrDefault(r => r.Method == "PATCH"
            && r.Path == $"/apis/argoproj.io/v1alpha1/namespaces/ci/workflows/{name}" && r.ContentType.StartsWith("application/merge-patch+json", StringComparison.Ordinal))),
            TimeSpan.FromSeconds(20), "the stop patch of the pull request's workflow");
        Assert.Equal("""{"spec":{"shutdown":"Terminate"}}""", JsonNode.Parse(stop.Body)!.ToJsonString());
        Assert.Equal("Terminate", kubernetes.Objects.Single(o => o["metadata"]!["name"]!.GetValue<string>() == name)["spec"]!["shutdown"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_stop_the_cluster_refused_for_a_while_is_sent_again_on_the_refs_reminder()
    {
        await using var env = await FollowingEnv.StartAsync("octo/follow-stop-later");
        var (github, kubernetes, repo) = (env.GitHub, env.Kubernetes, env.Repo);
        var refusing = true;
        var refused = 0;
        kubernetes.Hold = r =>
        {
            if (Volatile.Read(ref refusing) && r.Method == "PATCH" && r.ContentType.StartsWith("application/merge-patch+json", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref refused);
                throw new InvalidOperationException("the API server is failing (answered 500)");
            }

            return Task.CompletedTask;
        };
        await using var service = await env.ServiceAsync(new Dictionary<string, string> { ["Handler:CancelSuperseded"] = "true" });

        var first = await PushAsync(service.Client, repo, 1);
        await CheckAsync(github, first, "in_progress");
        await PushAsync(service.Client, repo, 2);
        Assert.Equal("cancelled", (await CheckAsync(github, first, "completed")).Conclusion);
        await Eventually.Until(() => Volatile.Read(ref refused) >= 5, TimeSpan.FromSeconds(20), "the stop's attempts refused");
        var name = NameOf(kubernetes.CreationsOf("Workflow")[0]);
        Assert.Null(kubernetes.Objects.Single(o => o["metadata"]!["name"]!.GetValue<string>() == name)["spec"]?["shutdown"]);

        Volatile.Write(ref refusing, false);
        await Eventually.Until(() => kubernetes.Objects.Any(o => o["metadata"]!["name"]!.GetValue<string>() == name
            && o["spec"]?["shutdown"]?.GetValue<string>() == "Terminate"), TimeSpan.FromSeconds(20), "the stop sent again on a reminder tick");
    }
}
