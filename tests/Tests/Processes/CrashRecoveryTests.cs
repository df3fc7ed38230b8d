using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.Processes;

/// <summary>
/// Real processes killed with SIGKILL while the cluster holds their applies in flight: every event that
/// was answered 202 is applied afterwards, once, in its ref's order.
/// </summary>
public class CrashRecoveryTests
{
    private sealed record Scenario(FakeGitHubApi GitHub, FakeKubernetesApi Kubernetes, FakeGitHubApi.Repository Repo, TaskCompletionSource Release)
        : IAsyncDisposable
    {
        public Dictionary<string, IReadOnlyList<string>> Revisions { get; } = [];

        public List<(string Delivery, string Payload)> Sent { get; } = [];

        public static async Task<Scenario> StartAsync(string repoName)
        {
            var github = await FakeGitHubApi.StartAsync();
            var kubernetes = await FakeKubernetesApi.StartAsync();
            var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

            // Every create waits until the test lets it through: the events stay in flight or queued.
            kubernetes.Hold = r => r.Method == "POST" ? release.Task : Task.CompletedTask;
            return new Scenario(github, kubernetes, github.Repo(repoName), release);
        }

        public Dictionary<string, string> Settings(string directory, IReadOnlyDictionary<string, string>? extra = null) =>
            ServiceSettings.Combine(new Dictionary<string, string>
            {
                ["Webhook:Secrets"] = TriggerHost.Secret,
                ["GitHub:BaseUrl"] = GitHub.BaseAddress.ToString(),
                ["GitHub:Token"] = FakeGitHubApi.Token,
                ["Kubernetes:KubeConfig"] = Kubernetes.WriteKubeConfig(directory),
                ["Logging:LogLevel:Default"] = "Warning",
            }, ServiceSettings.SingleFile, ServiceSettings.FastRetry, ServiceSettings.FastRecovery, extra);

        /// <summary>Sends <paramref name="count"/> chained pushes for each branch, all answered 202.</summary>
        public async Task PushAsync(HttpClient client, string[] branches, int count)
        {
            foreach (var branch in branches)
            {
                var revisions = Enumerable.Range(0, count).Select(_ => Repo.Commit(branch, ".ci/workflow.yaml", SampleManifest.Workflow)).ToList();
                Revisions[$"refs/heads/{branch}"] = revisions;
                for (var i = 0; i < count; i++)
                {
                    var delivery = Guid.NewGuid().ToString();
                    var payload = Payloads.Push(Repo.FullName, $"refs/heads/{branch}", i == 0 ? Payloads.ZeroSha : revisions[i - 1], revisions[i]);
                    using var response = await client.SendAsync(TriggerHost.Webhook("push", Encoding.UTF8.GetBytes(payload), "application/json", delivery));
                    Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
                    Sent.Add((delivery, payload));
                }
            }
        }

        public int Expected => Revisions.Values.Sum(r => r.Count);

        public async ValueTask DisposeAsync()
        {
            Release.TrySetResult();
            await Kubernetes.DisposeAsync();
            await GitHub.DisposeAsync();
        }
    }

    [Fact]
    public async Task Every_acknowledged_delivery_can_be_looked_up_after_kill_9_even_before_it_is_processed()
    {
        await using var scenario = await Scenario.StartAsync("octo/lookup-crash");
        var directory = Directory.CreateTempSubdirectory("citrigger-lookup-").FullName;
        var settings = scenario.Settings(directory, ServiceSettings.EmbeddedSilo(directory));
        var revision = scenario.Repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);

        // Many refs at once, as GitHub sends them, and the process killed the moment the last is answered:
        // creates are held, so none of these events finishes before the kill or after the restart.
        var first = await SiloProcess.StartAsync(settings);
        var deliveries = Enumerable.Range(0, 90).Select(_ => Guid.NewGuid().ToString()).ToList();
        var answers = await Task.WhenAll(deliveries.Select(async (delivery, i) =>
        {
            var payload = Payloads.Push(scenario.Repo.FullName, $"refs/heads/lookup-{i}", Payloads.ZeroSha, revision);
            using var response = await first.Client.SendAsync(TriggerHost.Webhook("push", Encoding.UTF8.GetBytes(payload), "application/json", delivery));
            return response.StatusCode;
        }));
        await first.KillAsync();
        Assert.All(answers, status => Assert.Equal(HttpStatusCode.Accepted, status));

        await using var second = await SiloProcess.StartAsync(settings);
        var unknown = new List<string>();
        foreach (var delivery in deliveries)
        {
            using var response = await second.Client.GetAsync($"/admin/deliveries/{delivery}");
            if (response.StatusCode != HttpStatusCode.OK)
            {
                unknown.Add($"{delivery}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
        }

        Assert.Empty(unknown);
        Assert.Empty(scenario.Kubernetes.Creations);
    }

    /// <summary>One silo (localhost clustering) with its state in the embedded default's SQLite file, or in Redis with <c>Storage:Provider=Redis</c>.</summary>
    [Theory]
    [InlineData("Sqlite")]
    [InlineData("Redis")]
    public async Task A_single_silo_applies_every_acknowledged_event_once_after_kill_9_and_restart(string provider)
    {
        await using var redis = provider == "Redis" ? await RedisServer.StartAsync() : null;
        await using var scenario = await Scenario.StartAsync("octo/embedded-crash");
        var directory = Directory.CreateTempSubdirectory("citrigger-crash-").FullName;
        var settings = scenario.Settings(directory, ServiceSettings.Combine(ServiceSettings.EmbeddedSilo(directory), redis is null ? null : new Dictionary<string, string>
        {
            ["Storage:Provider"] = provider,
            ["ConnectionStrings:Redis"] = redis.ConnectionString,
        }));

        var first = await SiloProcess.StartAsync(settings);
        await scenario.PushAsync(first.Client, ["one", "two"], 3);
        await Eventually.Until(() => scenario.Kubernetes.Held == 2, TimeSpan.FromSeconds(20), "both refs' first create in flight");
        await first.KillAsync();

        // The creates that were in flight when the process died go through now, unseen by the service.
        scenario.Release.SetResult();
        await Eventually.Until(() => scenario.Kubernetes.Creations.Count == 2, TimeSpan.FromSeconds(10), "the orphaned creates");

        // Nothing but the restart itself may wake the refs: no webhook, no admin call until all is applied.
        await using var second = await SiloProcess.StartAsync(settings);
        await Eventually.Until(() => scenario.Kubernetes.Creations.Count == scenario.Expected, TimeSpan.FromSeconds(30),
            "every acknowledged event applied after the restart");
        await Eventually.UntilAsync(() => IdleAsync(second, scenario), TimeSpan.FromSeconds(10), "both refs idle, every event in their history");

        AppliedOnce.InOrder(scenario.Kubernetes, scenario.Revisions);
        var state = (await second.Client.GetFromJsonAsync<JsonObject>($"/admin/repos/{scenario.Repo.FullName}/refs/heads/one"))!;
        Assert.Equal("existing", state["history"]![2]!["objects"]![0]!["action"]!.GetValue<string>());

        var (delivery, payload) = scenario.Sent[1];
        using var redelivered = await second.Client.SendAsync(TriggerHost.Webhook("push", Encoding.UTF8.GetBytes(payload), "application/json", delivery));
        Assert.Equal("duplicate", (await redelivered.Content.ReadFromJsonAsync<JsonObject>())!["status"]!.GetValue<string>());
        Assert.Equal(provider == "Sqlite", File.Exists(Path.Combine(directory, "ci-trigger.db")));
    }

    [Fact]
    public async Task In_redis_mode_the_surviving_silo_finishes_a_killed_silos_queue_once_in_order()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var scenario = await Scenario.StartAsync("octo/redis-crash");
        var directory = Directory.CreateTempSubdirectory("citrigger-redis-").FullName;
        Dictionary<string, string> SiloSettings() => RedisSiloSettings(scenario, directory, redis);

        await using var survivor = await SiloProcess.StartAsync(SiloSettings());
        var doomed = await SiloProcess.StartAsync(SiloSettings());

        // Refs are placed on the silo that received their webhook, so all of them live on the doomed one.
        await scenario.PushAsync(doomed.Client, ["one", "two", "three"], 3);
        await Eventually.Until(() => scenario.Kubernetes.Held == 3, TimeSpan.FromSeconds(20), "every ref's first create in flight");
        await doomed.KillAsync();
        scenario.Release.SetResult();

        // Only the refs' reminders may bring them back on the survivor: no webhook, no admin call until all is applied.
        await Eventually.Until(() => scenario.Kubernetes.Creations.Count == scenario.Expected, TimeSpan.FromSeconds(90),
            "the survivor to finish the dead silo's queues\n" + survivor.Output);
        await Eventually.UntilAsync(() => IdleAsync(survivor, scenario), TimeSpan.FromSeconds(10), "both refs idle, every event in their history");

        AppliedOnce.InOrder(scenario.Kubernetes, scenario.Revisions);

        // A webhook posted to the survivor reaches the (re-activated) ref: its delivery memory survived too.
        var (delivery, payload) = scenario.Sent[^1];
        using var redelivered = await survivor.Client.SendAsync(TriggerHost.Webhook("push", Encoding.UTF8.GetBytes(payload), "application/json", delivery));
        Assert.Equal("duplicate", (await redelivered.Content.ReadFromJsonAsync<JsonObject>())!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task In_redis_mode_killing_a_silo_while_webhooks_arrive_at_both_applies_every_acknowledged_event_once_in_order()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var github = await FakeGitHubApi.StartAsync();
        await using var kubernetes = await FakeKubernetesApi.StartAsync();
        kubernetes.Latency = TimeSpan.FromMilliseconds(20);
        var repo = github.Repo("octo/busy-failover");
        var directory = Directory.CreateTempSubdirectory("citrigger-busy-").FullName;
        var scenario = new Scenario(github, kubernetes, repo, new TaskCompletionSource());
        Dictionary<string, string> SiloSettings() => RedisSiloSettings(scenario, directory, redis);
        await using var survivor = await SiloProcess.StartAsync(SiloSettings());
        var doomed = await SiloProcess.StartAsync(SiloSettings());
        var branches = Enumerable.Range(0, 8).Select(i => $"b{i}").ToArray();
        var revisions = branches.ToDictionary(b => b, b => Enumerable.Range(0, 30).Select(_ => repo.Commit(b, ".ci/workflow.yaml", SampleManifest.Workflow)).ToList());
        var acknowledged = new System.Collections.Concurrent.ConcurrentDictionary<string, string>();
        var killed = 0;

        // Each branch's pushes go out in order, alternating between the silos; a refused one is sent again
        // (to the survivor) as GitHub's redelivery would, so the chain stays whole.
        async Task SendBranch(string branch)
        {
            var revs = revisions[branch];
            for (var i = 0; i < revs.Count; i++)
            {
                var delivery = Guid.NewGuid().ToString();
                var body = Encoding.UTF8.GetBytes(Payloads.Push(repo.FullName, $"refs/heads/{branch}", i == 0 ? Payloads.ZeroSha : revs[i - 1], revs[i]));
                for (var attempt = 0; ; attempt++)
                {
                    var silo = attempt == 0 && i % 2 == 1 && Volatile.Read(ref killed) == 0 ? doomed : survivor;
                    try
                    {
                        using var response = await silo.Client.SendAsync(TriggerHost.Webhook("push", body, "application/json", delivery));
                        if (response.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.OK)
                        {
                            acknowledged[delivery] = revs[i];
                            break;
                        }
                    }
                    catch (HttpRequestException)
                    {
                    }
                    catch (TaskCanceledException)
                    {
                    }

                    await Task.Delay(200);
                }
            }
        }

        var sending = Task.WhenAll(branches.Select(SendBranch));
        await Eventually.Until(() => kubernetes.Creations.Count >= 40, TimeSpan.FromSeconds(30), "traffic under way");
        Volatile.Write(ref killed, 1);
        await doomed.KillAsync();
        await sending.WaitAsync(TimeSpan.FromSeconds(120));
        await Eventually.Until(() => kubernetes.Creations.Count >= acknowledged.Count, TimeSpan.FromSeconds(90), "every acknowledged event applied\n" + survivor.Output);

        AppliedOnce.InOrder(kubernetes, revisions.ToDictionary(r => $"refs/heads/{r.Key}", r => (IReadOnlyList<string>)r.Value));
    }

    private static async Task<bool> IdleAsync(SiloProcess silo, Scenario scenario)
    {
        foreach (var gitRef in scenario.Revisions.Keys)
        {
            try
            {
                var state = await silo.Client.GetFromJsonAsync<JsonObject>($"/admin/repos/{scenario.Repo.FullName}/{gitRef}");
                if (state!["queue"]!.AsArray().Count != 0 || state["history"]!.AsArray().Count != scenario.Revisions[gitRef].Count)
                {
                    return false;
                }
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }

        return true;
    }

    private static Dictionary<string, string> RedisSiloSettings(Scenario scenario, string directory, RedisServer redis) =>
        scenario.Settings(directory, ServiceSettings.RedisSilo(redis.ConnectionString));
}
