using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using CiTrigger.Gateway.Forges.GitHub;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.GitHubApp;

/// <summary>
/// Deliveries GitHub could not hand over are found in its delivery log and asked for again; the fake
/// GitHub really redelivers them (same guid, signed) to the running service.
/// </summary>
public sealed class DeliveryRecoveryTests : IAsyncLifetime
{
    private const long Installation = 51;
    private readonly string url = $"http://127.0.0.1:{FreePorts.Next().ToString(CultureInfo.InvariantCulture)}";
    private readonly string dataPath = Directory.CreateTempSubdirectory("citrigger-recovery-").FullName;
    private FakeGitHubApi github = null!;
    private FakeKubernetesApi kubernetes = null!;
    private AppIdentity app = null!;

    public async ValueTask InitializeAsync()
    {
        github = await FakeGitHubApi.StartAsync();
        kubernetes = await FakeKubernetesApi.StartAsync();
        app = AppIdentity.Register(github);
        app.App.Webhook = (new Uri(url + "/webhooks/github"), TriggerHost.Secret);
        github.Signer = (body, secret) => GitHubSignature.Sign(body, Encoding.UTF8.GetBytes(secret));
    }

    public async ValueTask DisposeAsync()
    {
        app.Dispose();
        await kubernetes.DisposeAsync();
        await github.DisposeAsync();
    }

    private Task<TriggerHost> StartServiceAsync(IDictionary<string, string>? more = null)
    {
        var settings = app.Settings(new Dictionary<string, string>
        {
            ["urls"] = url,
            ["GitHub:RecoveryInterval"] = "00:00:01",
        });
        foreach (var (key, value) in more ?? new Dictionary<string, string>())
        {
            settings[key] = value;
        }

        return TriggerHost.StartAsync(github, kubernetes, settings, dataPath: dataPath);
    }

    private static async Task<JsonObject> RecoveryAsync(TriggerHost service) =>
        (await service.Client.GetFromJsonAsync<JsonObject>("/admin/recovery"))!;

    /// <summary>Waits for <paramref name="count"/> more scans than <paramref name="after"/> to finish.</summary>
    private static Task<JsonObject> ScansAsync(TriggerHost service, long after, int count = 1) =>
        Eventually.Until(async () => await RecoveryAsync(service) is { } status && status["scans"]!.GetValue<long>() >= after + count ? status : null,
            TimeSpan.FromSeconds(20), $"{count} more delivery scans");

    [Fact]
    public async Task Missed_deliveries_are_redelivered_and_applied_once_and_known_or_unhandled_ones_are_never_asked_for()
    {
        github.Install(app.App, Installation, "octo/recover");
        var repo = github.Repo("octo/recover");
        string Push(string branch) => Payloads.Installed(Payloads.Push(repo.FullName, "refs/heads/" + branch, Payloads.Sha(1),
            repo.Commit(branch, ".ci/workflow.yaml", SampleManifest.Workflow)), Installation);
        var knownPayload = Push("known");
        var knownGuid = Guid.NewGuid().ToString();
        await using var service = await StartServiceAsync();
        using (var response = await service.SendAsync("push", knownPayload, knownGuid))
        {
            Assert.Equal(202, (int)response.StatusCode);
        }

        // GitHub's log in the order GitHub wrote it (ids grow with time), with enough answered deliveries
        // that it takes two pages of 100; all of it since the service started, within a scan's overlap.
        var log = app.App.Deliveries;
        var start = github.Time.GetUtcNow().AddMinutes(-3);
        repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        var tooOld = log.Add("push", Push("too-old"), 503, start.AddDays(-4));
        var missed = new List<FakeGitHubApi.HookDelivery> { log.Add("push", Push("missed-1"), 503, start) };
        for (var i = 1; i <= 150; i++)
        {
            log.Add("push", "{}", 200, start.AddSeconds(i));
        }

        missed.Add(log.Add("push", Push("missed-2"), 0, start.AddSeconds(160)));
        missed.Add(log.Add("delete", Payloads.Installed(Payloads.Delete(repo.FullName, "gone"), Installation), 502, start.AddSeconds(165)));

        // GitHub gave up waiting for this one, but the service had stored it.
        var known = log.Add("push", knownPayload, 504, start.AddSeconds(170), knownGuid);
        var unhandled = log.Add("issues", Payloads.Example("ping").ToJsonString(), 500, start.AddSeconds(175));

        foreach (var gitRef in new[] { "refs/heads/missed-1", "refs/heads/missed-2", "refs/heads/gone" })
        {
            await Eventually.Until(async () =>
            {
                using var state = await service.Client.GetAsync($"/admin/repos/{repo.FullName}/{gitRef}");
                return state.IsSuccessStatusCode ? "known" : null;
            }, TimeSpan.FromSeconds(20), gitRef);
        }

        var before = (await RecoveryAsync(service))["scans"]!.GetValue<long>();
        var status = await ScansAsync(service, before, 2);

        Assert.Equal(missed.Select(d => d.Id).Order(), github.RedeliveryRequests.Order());
        Assert.DoesNotContain(known.Id, github.RedeliveryRequests);
        Assert.DoesNotContain(unhandled.Id, github.RedeliveryRequests);
        Assert.DoesNotContain(tooOld.Id, github.RedeliveryRequests);
        Assert.Equal(4, kubernetes.CreationsOf("Workflow").Count);
        Assert.All(missed, d => Assert.Contains(log.All, r => r.Redelivery && r.DeliveryGuid == d.DeliveryGuid && r.StatusCode == 202));
        Assert.Equal(0, status["lastScan"]!["requested"]!.GetValue<int>());
        Assert.Null(status["lastScan"]!["error"]);
        Assert.True(status["enabled"]!.GetValue<bool>());
        Assert.Contains(github.Requests, r => r.Path == "/api/v3/app/hook/deliveries" && r.Query.Contains("cursor=", StringComparison.Ordinal));

        // Meters are process-wide and other tests' services share this process: at least these three.
        var scrape = await service.Client.GetStringAsync("/metrics");
        var recovered = scrape.Split('\n').Single(l => l.StartsWith("citrigger_deliveries_recovered_total", StringComparison.Ordinal));
        Assert.True(double.Parse(recovered.Split(' ')[1], CultureInfo.InvariantCulture) >= 3, recovered);
    }

    [Fact]
    public async Task A_restart_does_not_ask_again_for_a_delivery_it_already_asked_for()
    {
        github.Install(app.App, Installation, "octo/recover-restart");

        // GitHub's log has it, but the service refuses it each time (it is malformed), so the delivery index never learns it.
        var refused = app.App.Deliveries.Add("push", "{\"ref\":", 400, github.Time.GetUtcNow().AddMinutes(-1));

        var service = await StartServiceAsync();
        await Eventually.Until(() => app.App.Deliveries.All.Any(d => d.Redelivery && d.DeliveryGuid == refused.DeliveryGuid), TimeSpan.FromSeconds(20), "the redelivery");
        await ScansAsync(service, (await RecoveryAsync(service))["scans"]!.GetValue<long>());
        await service.DisposeAsync();

        await using var restarted = await StartServiceAsync();
        var after = await ScansAsync(restarted, (await RecoveryAsync(restarted))["scans"]!.GetValue<long>(), 2);

        Assert.Equal([refused.Id], github.RedeliveryRequests);
        Assert.Equal(400, app.App.Deliveries.All.Single(d => d.Redelivery).StatusCode);
        Assert.Equal(1, after["remembered"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_redelivery_the_service_answers_503_is_asked_for_again_on_a_later_scan_until_it_is_accepted_and_applied()
    {
        github.Install(app.App, Installation, "octo/recover-again");
        var repo = github.Repo("octo/recover-again");
        var first = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        var second = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        await using var service = await StartServiceAsync(new Dictionary<string, string> { ["Handler:MaxQueueLength"] = "1" });

        // The ref is paused and its one queue place taken, so the service answers a redelivery 503 (queue full).
        using (await service.Client.PostAsync($"/admin/repos/{repo.FullName}/refs/heads/main/pause", null))
        {
        }

        using (var queued = await service.SendAsync("push", Payloads.Installed(Payloads.Push(repo.FullName, "refs/heads/main", Payloads.ZeroSha, first), Installation)))
        {
            Assert.Equal(202, (int)queued.StatusCode);
        }

        var missed = app.App.Deliveries.Add("push", Payloads.Installed(Payloads.Push(repo.FullName, "refs/heads/main", first, second), Installation),
            503, github.Time.GetUtcNow().AddMinutes(-1));
        List<FakeGitHubApi.HookDelivery> Attempts() => [.. app.App.Deliveries.All.Where(d => d.Redelivery && d.DeliveryGuid == missed.DeliveryGuid)];
        await Eventually.Until(() => Attempts().Count > 0, TimeSpan.FromSeconds(20), "the first redelivery");
        await Eventually.Until(async () => await RecoveryAsync(service) is { } status && status["awaited"]!.GetValue<int>() == 1 ? status : null,
            TimeSpan.FromSeconds(20), "the recovery status to show the delivery awaited");
        using (await service.Client.PostAsync($"/admin/repos/{repo.FullName}/refs/heads/main/resume", null))
        {
        }

        await Eventually.Until(() => kubernetes.CreationsOf("Workflow").Count == 2, TimeSpan.FromSeconds(30), "the queued push and the missed one to be applied");
        var settled = await ScansAsync(service, (await RecoveryAsync(service))["scans"]!.GetValue<long>());

        var attempts = Attempts();
        Assert.Equal(503, attempts[0].StatusCode);
        Assert.Equal(202, attempts[^1].StatusCode);
        Assert.True(attempts.Count >= 2, $"{attempts.Count} attempts");
        Assert.Equal(attempts.Count, github.RedeliveryRequests.Count(id => id == missed.Id));
        Assert.Equal(0, settled["awaited"]!.GetValue<int>());
        AppliedOnce.InOrder(kubernetes, new Dictionary<string, IReadOnlyList<string>> { ["refs/heads/main"] = [first, second] });
    }

    [Fact]
    public async Task In_token_mode_the_listed_repository_hooks_are_scanned_with_the_token()
    {
        var repo = github.Repo("octo/recover-hook");
        var hook = new FakeGitHubApi.Hook(77, github.Time.GetUtcNow()) { Url = url + "/webhooks/github", Secret = TriggerHost.Secret, ContentType = "json", Events = ["push"] };
        repo.Hooks.Add(hook);
        var missed = hook.Deliveries.Add("push", Payloads.Uninstalled(Payloads.Push(repo.FullName, "refs/heads/main", Payloads.Sha(1),
            repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow))), 503, github.Time.GetUtcNow().AddMinutes(-3));

        await using var service = await TriggerHost.StartAsync(github, kubernetes, new Dictionary<string, string>
        {
            ["urls"] = url,
            ["GitHub:RecoveryInterval"] = "00:00:01",
            ["GitHub:RecoverHooks"] = $"{repo.FullName}:77",
        }, dataPath: dataPath);
        await Eventually.Until(() => kubernetes.CreationsOf("Workflow").Count == 1, TimeSpan.FromSeconds(20), "the redelivered push to be applied");
        await ScansAsync(service, (await RecoveryAsync(service))["scans"]!.GetValue<long>());

        Assert.Equal([missed.Id], github.RedeliveryRequests);
        Assert.All(github.Requests.Where(r => r.Path.Contains("/hooks/77/deliveries", StringComparison.Ordinal)),
            r => Assert.Equal("token " + FakeGitHubApi.Token, r.Authorization, ignoreCase: true));
    }

    [Fact]
    public async Task Without_an_app_or_hooks_to_scan_recovery_is_off()
    {
        await using var service = await TriggerHost.StartAsync(github, kubernetes, new Dictionary<string, string> { ["urls"] = url }, dataPath: dataPath);

        var status = await RecoveryAsync(service);

        Assert.False(status["enabled"]!.GetValue<bool>());
        Assert.Equal(0, status["scans"]!.GetValue<long>());
        Assert.DoesNotContain(github.Requests, r => r.Path.Contains("deliveries", StringComparison.Ordinal));
    }
}
