using System.Text;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CiTrigger.Tests.EndToEnd;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.Operations;

public class MetricsTests
{
    private static double? Sample(string scrape, string metric, params string[] labels) => PrometheusText.Sample(scrape, metric, labels);

    /// <summary>
    /// A process of its own: meters are process-wide, and other tests' in-process services would add to the counts.
    /// </summary>
    [Fact]
    public async Task Metrics_count_webhooks_outcomes_and_latencies_after_known_traffic()
    {
        await using var github = await FakeGitHubApi.StartAsync();
        await using var kubernetes = await FakeKubernetesApi.StartAsync();
        var directory = Directory.CreateTempSubdirectory("citrigger-metrics-").FullName;
        await using var silo = await SiloProcess.StartAsync(ServiceSettings.Combine(new Dictionary<string, string>
        {
            ["Webhook:Secrets"] = TriggerHost.Secret,
            ["GitHub:BaseUrl"] = github.BaseAddress.ToString(),
            ["Kubernetes:KubeConfig"] = kubernetes.WriteKubeConfig(directory),
        }, ServiceSettings.EmbeddedSilo(directory)));
        var repo = github.Repo("octo/metrics");
        var good = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        var missing = repo.Commit("broken", "README.md", "no manifest");
        async Task Send(string eventType, string json, string? secret = TriggerHost.Secret)
        {
            using var response = await silo.Client.SendAsync(TriggerHost.Webhook(eventType, Encoding.UTF8.GetBytes(json), "application/json", Guid.NewGuid().ToString(), secret));
        }

        await Send("push", Payloads.Push(repo.FullName, "refs/heads/main", Payloads.Sha(1), good));
        await Send("push", Payloads.Push(repo.FullName, "refs/heads/broken", Payloads.Sha(1), missing));
        await Send("ping", Payloads.Example("ping").ToJsonString());
        await Send("push", "{}", secret: null);
        async Task<JsonObject> Finished(string gitRef) => await Eventually.Until(async () =>
            await silo.Client.GetFromJsonAsync<JsonObject>($"/admin/repos/{repo.FullName}/{gitRef}") is { } s && IsolatedService.Finished(s) == 1 ? s : null,
            TimeSpan.FromSeconds(20), gitRef);
        var states = new[] { await Finished("refs/heads/main"), await Finished("refs/heads/broken") };
        var attempts = states.Sum(s => s["history"]![0]!["attempts"]!.AsArray().Count);

        // The history can show an event finished a moment before its end is counted (the ref's admin answer may
        // interleave with the turn that records it), so the scrape is taken once both ends are counted.
        var scrape = await Eventually.Until(async () => await silo.Client.GetStringAsync("/metrics") is var text
            && Sample(text, "citrigger_events_end_to_end_duration_seconds_count") == 2 ? text : null, TimeSpan.FromSeconds(10), "both events counted");

        Assert.Equal(2, Sample(scrape, "citrigger_webhooks_received_total", "event=\"push\"", "status=\"202\""));
        Assert.Equal(1, Sample(scrape, "citrigger_webhooks_received_total", "event=\"ping\"", "status=\"200\""));
        Assert.Equal(1, Sample(scrape, "citrigger_webhooks_received_total", "event=\"push\"", "status=\"401\""));
        Assert.Equal(1, Sample(scrape, "citrigger_events_processed_total", "outcome=\"applied\""));
        Assert.Equal(1, Sample(scrape, "citrigger_events_processed_total", "outcome=\"failed\""));
        Assert.Equal(0, Sample(scrape, "citrigger_queue_depth"));
        Assert.Equal(attempts, Sample(scrape, "citrigger_processing_duration_seconds_count"));
        Assert.Equal(1, Sample(scrape, "citrigger_processing_duration_seconds_count", "result=\"applied\""));
        Assert.Equal(2, Sample(scrape, "citrigger_events_end_to_end_duration_seconds_count"));
        Assert.True(Sample(scrape, "orleans_catalog_activations") > 0, "the Orleans runtime's own meters are exported");
        Assert.True(Sample(scrape, "citrigger_store_writes_total", "store=\"sqlite\"") >= 2, "each accepted event is written to the store");
        Assert.True(Sample(scrape, "citrigger_store_written_bytes_total", "store=\"sqlite\"") > 0, "with the bytes it carried");
    }

    /// <summary>
    /// Label values never come from what an unauthenticated caller sends: unknown event names count as
    /// <c>other</c>, and ASP.NET Core's own meters label unmatched paths and unknown methods by fixed values.
    /// </summary>
    [Fact]
    public async Task Three_thousand_unsigned_requests_with_invented_names_leave_the_scrape_within_a_few_KB_of_its_size()
    {
        await using var github = await FakeGitHubApi.StartAsync();
        var directory = Directory.CreateTempSubdirectory("citrigger-labels-").FullName;
        await using var silo = await SiloProcess.StartAsync(ServiceSettings.Combine(new Dictionary<string, string>
        {
            ["Webhook:Secrets"] = TriggerHost.Secret,
            ["GitHub:BaseUrl"] = github.BaseAddress.ToString(),
            ["Kubernetes:DryRun"] = "true",
        }, ServiceSettings.EmbeddedSilo(directory)));
        var invented = new List<string>();
        HttpRequestMessage Invented(int n)
        {
            var name = "e" + Guid.NewGuid().ToString("N")[..12];
            lock (invented)
            {
                invented.Add(name);
            }

            return (n % 3) switch
            {
                0 => new HttpRequestMessage(new HttpMethod("M" + name.ToUpperInvariant()), $"/webhooks/{name}"),
                1 => new HttpRequestMessage(HttpMethod.Get, $"/{name}/{n}"),
                _ => TriggerHost.Webhook(n % 2 == 0 ? name : name.ToUpperInvariant() + "-!", Encoding.UTF8.GetBytes("{}"), "application/json", name, secret: null),
            };
        }

        async Task Send(int n)
        {
            using var request = Invented(n);
            using var response = await silo.Client.SendAsync(request);
        }

        // One of each kind first, and a scrape, so the series they legitimately add (event "other" with 401,
        // 404s, the unknown method, the scrape's own duration) exist before the size is taken.
        for (var n = 0; n < 6; n++)
        {
            await Send(n);
        }

        var before = await Eventually.Until(async () => await silo.Client.GetStringAsync("/metrics") is var scrape
            && Sample(scrape, "http_server_request_duration_seconds_count", "http_route=\"/metrics\"") > 0 ? scrape : null,
            TimeSpan.FromSeconds(10), "a scrape that counts an earlier scrape");
        await Parallel.ForEachAsync(Enumerable.Range(6, 3000), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (n, _) => await Send(n));
        var webhooks = Enumerable.Range(0, 3006).Count(n => n % 3 == 2);

        // The exporter caches a scrape for a moment; wait for one taken after the flood.
        var after = await Eventually.Until(async () => await silo.Client.GetStringAsync("/metrics") is var scrape
            && Sample(scrape, "citrigger_webhooks_received_total", "event=\"other\"") == webhooks ? scrape : null,
            TimeSpan.FromSeconds(10), "a scrape that counts every webhook");

        TestContext.Current.TestOutputHelper!.WriteLine($"scrape: {before.Length} bytes before, {after.Length} after");
        Assert.InRange(after.Length - before.Length, 0, 4096);
        Assert.Equal(webhooks, Sample(after, "citrigger_webhooks_received_total", "event=\"other\"", "status=\"401\""));
        Assert.DoesNotContain(invented, name => after.Contains(name, StringComparison.OrdinalIgnoreCase));
    }
}
