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
/// A Repository's <c>concurrencyLimit</c>: at most N runs of the repository at once across its refs and silos; the
/// others wait in the order they came with a queued check, and start as runs finish, also after a silo died.
/// The fake cluster serves the Repository CRD; the test plays Argo by writing the Workflows' status.
/// </summary>
public sealed class ConcurrencyLimitTests
{
    private static readonly JsonObject LimitOfOne = new() { ["concurrencyLimit"] = 1 };

    [Fact]
    public async Task With_a_limit_of_one_three_refs_run_one_after_another_in_the_order_they_came()
    {
        await using var env = await StartAsync("octo/limited");
        Limit(env);
        await using var service = await env.ServiceAsync();
        await ReadyAsync(service.Client);

        var main = await PushAsync(service.Client, env.Repo, "main", 1);
        var mainRun = await WorkflowAsync(env, main);
        var a = await PushAsync(service.Client, env.Repo, "a", 2);
        var b = await PushAsync(service.Client, env.Repo, "b", 3);

        // Both wait, in line, their checks queued and saying why; nothing of theirs reached the cluster.
        Assert.Contains("waiting for a run slot (1 of 1 runs of the repository running; number 2 in line)", await WaitingAsync(env.GitHub, b), StringComparison.Ordinal);
        Assert.Contains("number 1 in line", await WaitingAsync(env.GitHub, a), StringComparison.Ordinal);
        var runs = await RunsAsync(service.Client);
        Assert.Equal(1, runs["limit"]!.GetValue<int>());
        Assert.Equal([main], runs["running"]!.AsArray().Select(r => r!["delivery"]!.GetValue<string>()));
        Assert.Equal([a, b], runs["waiting"]!.AsArray().Select(r => r!["delivery"]!.GetValue<string>()));
        Assert.Single(env.Kubernetes.CreationsOf("Workflow"));

        WriteStatus(env.Kubernetes, mainRun, "Succeeded");
        var aRun = await WorkflowAsync(env, a);
        Assert.Equal("success", (await CheckAsync(env.GitHub, main, "completed")).Conclusion);
        await CheckAsync(env.GitHub, a, "in_progress");
        Assert.Equal("queued", env.GitHub.CheckRuns.Single(r => r.ExternalId == b).Status);
        Assert.Equal(2, env.Kubernetes.CreationsOf("Workflow").Count);

        WriteStatus(env.Kubernetes, aRun, "Failed", "child 'build' failed");
        var bRun = await WorkflowAsync(env, b);
        Assert.Equal("failure", (await CheckAsync(env.GitHub, a, "completed")).Conclusion);
        WriteStatus(env.Kubernetes, bRun, "Succeeded");
        Assert.Equal("success", (await CheckAsync(env.GitHub, b, "completed")).Conclusion);

        runs = await RunsAsync(service.Client);
        Assert.Empty(runs["running"]!.AsArray());
        Assert.Empty(runs["waiting"]!.AsArray());
    }

    [Fact]
    public async Task An_event_waiting_on_a_silo_that_is_killed_starts_on_the_survivor_when_the_slot_is_free()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var env = await StartAsync("octo/limited-failover");
        Limit(env);
        var settings = ServiceSettings.RedisSilo(redis.ConnectionString);
        await using var survivor = await SiloProcess.StartAsync(SettingsFor(env, settings));
        var doomed = await SiloProcess.StartAsync(SettingsFor(env, ServiceSettings.RedisSilo(redis.ConnectionString)));
        await ReadyAsync(survivor.Client);
        await ReadyAsync(doomed.Client);

        var main = await PushAsync(survivor.Client, env.Repo, "main", 1);
        var mainRun = await WorkflowAsync(env, main);

        // The waiting ref lives on the doomed silo (refs are placed where their webhook arrived).
        var feature = await PushAsync(doomed.Client, env.Repo, "feature", 2);
        await CheckAsync(env.GitHub, feature, "queued", doomed.Output);
        await doomed.KillAsync();

        WriteStatus(env.Kubernetes, mainRun, "Succeeded");
        var featureRun = await WorkflowAsync(env, feature, seconds: 90, survivor.Output);
        WriteStatus(env.Kubernetes, featureRun, "Succeeded");
        Assert.Equal("success", (await CheckAsync(env.GitHub, feature, "completed", survivor.Output, seconds: 60)).Conclusion);
        Assert.Equal(2, env.Kubernetes.CreationsOf("Workflow").Count);
    }

    private static void Limit(FollowingEnv env)
    {
        env.Kubernetes.ServeRepositories();
        var spec = (JsonObject)LimitOfOne.DeepClone();
        spec["repository"] = env.Repo.FullName;
        env.Kubernetes.PutRepository("limited", spec);
    }

    private static Dictionary<string, string> SettingsFor(FollowingEnv env, IReadOnlyDictionary<string, string> silo) =>
        env.SettingsWith(silo);

    /// <summary>Waits until the service has read the Repository.</summary>
    private static Task ReadyAsync(HttpClient client) =>
        Eventually.UntilAsync(async () => (await client.GetFromJsonAsync<JsonObject>("/admin/repositories"))!["repositories"]!.AsArray()
            .Any(r => r!["ready"]!.GetValue<bool>()), TimeSpan.FromSeconds(20), "the Repository was read");

    private static async Task<JsonObject> RunsAsync(HttpClient client) =>
        (await client.GetFromJsonAsync<JsonObject>("/admin/repositories"))!["repositories"]!.AsArray().Single()!["runs"]!.AsObject();

    private static async Task<string> PushAsync(HttpClient client, FakeGitHubApi.Repository repo, string branch, int n)
    {
        var before = repo.Branches.TryGetValue(branch, out var head) ? head : Payloads.Sha(n);
        var after = repo.Commit(branch, ".ci/workflow.yaml", SampleManifest.Workflow + $"\n# {branch} {n}\n");
        var delivery = Guid.NewGuid().ToString();
        var body = Payloads.Installed(Payloads.Push(repo.FullName, "refs/heads/" + branch, before, after), Installation);
        using var answer = await client.SendAsync(TriggerHost.Webhook("push", Encoding.UTF8.GetBytes(body), "application/json", delivery));
        Assert.Equal(HttpStatusCode.Accepted, answer.StatusCode);
        return delivery;
    }

    /// <summary>The name of the Workflow the delivery created, once it was created.</summary>
    private static async Task<string> WorkflowAsync(FollowingEnv env, string delivery, int seconds = 30, string diagnostics = "") =>
        NameOf(await Eventually.Until(() => Task.FromResult(env.Kubernetes.CreationsOf("Workflow").FirstOrDefault(c =>
            c["metadata"]!["annotations"]!["k8s-webhook-handler.io/delivery"]!.GetValue<string>() == delivery)), TimeSpan.FromSeconds(seconds), $"the Workflow of {delivery}\n{diagnostics}"));

    /// <summary>The words of the delivery's check once it says that the event waits for a run slot.</summary>
    private static Task<string> WaitingAsync(FakeGitHubApi github, string delivery) =>
        Eventually.Until(() => Task.FromResult(github.CheckRuns.FirstOrDefault(r => r.ExternalId == delivery && r.Status == "queued"
            && Summary(r).Contains("waiting for a run slot", StringComparison.Ordinal)) is { } run ? Summary(run) : null),
            TimeSpan.FromSeconds(30), $"the check of {delivery} says it waits for a run slot");

    private static string Summary(FakeGitHubApi.CheckRun run) => run.Output?["summary"]?.GetValue<string>() + " " + run.Output?["title"]?.GetValue<string>();
}
