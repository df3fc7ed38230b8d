using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CiTrigger.Gateway.Webhooks;
using CiTrigger.Tests.EndToEnd;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace CiTrigger.Tests.Operations;

/// <summary>
/// Anyone can send bytes to the webhook endpoint; until the signature is checked they are untrusted. The
/// memory they may hold is what arrived (not what <c>Content-Length</c> announces), and all of them together
/// at most <c>Webhook:MaxUnverifiedBytes</c>.
/// </summary>
public class UnverifiedBodyTests
{
    private const int MiB = 1024 * 1024;

    [Fact]
    public async Task When_unverified_bodies_fill_the_budget_a_newcomer_gets_503_and_is_served_once_they_are_gone()
    {
        await using var env = await IsolatedService.StartAsync(new Dictionary<string, string>
        {
            ["Webhook:MaxPayloadBytes"] = MiB.ToString(CultureInfo.InvariantCulture),
            ["Webhook:MaxUnverifiedBytes"] = (3 * MiB).ToString(CultureInfo.InvariantCulture),
        }, dryRun: true);
        var budget = env.Service.Services.GetRequiredService<UnverifiedBodyBudget>();
        var port = env.Service.Client.BaseAddress!.Port;
        var uploads = new List<RawUpload>();
        for (var i = 0; i < 3; i++)
        {
            var upload = await RawUpload.StartAsync(port, MiB);
            await upload.SendAsync(MiB - 1);
            uploads.Add(upload);
        }

        // Three bodies one byte short of 1 MiB: their segments take the whole budget, and wait for their last byte.
        await Eventually.Until(() => budget.Reserved == budget.Capacity, TimeSpan.FromSeconds(10), "the unfinished uploads to hold the budget");
        using var refused = await env.Service.SendAsync("push", Payloads.Push("octo/budget", "refs/heads/main", Payloads.Sha(1), Payloads.Sha(2)));
        await uploads[0].DisposeAsync();
        await Eventually.Until(() => budget.Reserved <= 2 * MiB, TimeSpan.FromSeconds(10), "a closed upload to give its memory back");
        using var accepted = await env.Service.SendAsync("push", Payloads.Push("octo/budget", "refs/heads/main", Payloads.Sha(1), Payloads.Sha(2)));
        foreach (var upload in uploads.Skip(1))
        {
            await upload.DisposeAsync();
        }

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        var reason = (await refused.Content.ReadFromJsonAsync<JsonObject>(TestContext.Current.CancellationToken))!["reason"]!.GetValue<string>();
        Assert.Contains("Webhook:MaxUnverifiedBytes", reason, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        await Eventually.Until(() => budget.Reserved == 0, TimeSpan.FromSeconds(10), "every upload to give its memory back");
    }

    /// <summary>
    /// The pod's limit is 512 MiB, so the runtime's heap limit there is 384 MiB (75 %). Twenty uploads that
    /// announce GitHub's 25 MB each would need 500 MB if the announcement were believed.
    /// </summary>
    [Fact]
    public async Task Signed_pushes_get_202_while_twenty_slow_unsigned_25_MB_uploads_are_in_progress_under_the_pods_heap_limit()
    {
        await using var github = await FakeGitHubApi.StartAsync();
        var directory = Directory.CreateTempSubdirectory("citrigger-flood-").FullName;
        await using var silo = await SiloProcess.StartAsync(ServiceSettings.Combine(new Dictionary<string, string>
        {
            ["Webhook:Secrets"] = TriggerHost.Secret,
            ["GitHub:BaseUrl"] = github.BaseAddress.ToString(),
            ["Kubernetes:DryRun"] = "true",
        }, ServiceSettings.EmbeddedSilo(directory)), environment: new Dictionary<string, string?> { ["DOTNET_GCHeapHardLimit"] = "0x18000000" });
        var output = TestContext.Current.TestOutputHelper!;
        async Task<string> Scrape() => await silo.Client.GetStringAsync("/metrics");
        output.WriteLine($"before: {Memory(await Scrape())}");

        var uploads = new List<RawUpload>();
        try
        {
            for (var i = 0; i < 20; i++)
            {
                var upload = await RawUpload.StartAsync(silo.HttpPort, 26_214_400);
                await upload.SendAsync(1024);
                upload.Trickle(1024, TimeSpan.FromMilliseconds(100));
                uploads.Add(upload);
            }

            // Each upload is either in the endpoint, reading its body, or was already answered (the old code
            // answered some with 500: the heap was gone).
            await Eventually.Until(async () => Posts(await Scrape()) is { Active: var active, Answered: var answered } && active + answered >= 20 ? "" : null,
                TimeSpan.FromSeconds(20), "the twenty uploads to reach the webhook endpoint");
            var answers = new List<HttpStatusCode>();
            for (var i = 0; i < 10; i++)
            {
                using var response = await silo.Client.SendAsync(TriggerHost.Webhook("push",
                    System.Text.Encoding.UTF8.GetBytes(Payloads.Push("octo/flood", $"refs/heads/b{i}", Payloads.Sha(1), Payloads.Sha(2))),
                    "application/json", Guid.NewGuid().ToString()));
                answers.Add(response.StatusCode);
            }

            var during = await Scrape();
            output.WriteLine($"under attack: {Memory(during)}; uploads sent {uploads.Sum(u => u.Sent)} bytes in all");

            Assert.All(answers, status => Assert.Equal(HttpStatusCode.Accepted, status));
            Assert.All(uploads, upload => Assert.False(upload.Answered, "an upload was answered (or dropped) before its body arrived"));
        }
        finally
        {
            foreach (var upload in uploads)
            {
                await upload.DisposeAsync();
            }
        }
    }

    /// <summary>POST requests in progress and answered, from ASP.NET Core's own meters.</summary>
    private static (double Active, double Answered) Posts(string scrape) =>
        (PrometheusText.Sample(scrape, "http_server_active_requests", "http_request_method=\"POST\"") ?? 0,
         PrometheusText.Sample(scrape, "http_server_request_duration_seconds_count", "http_request_method=\"POST\"") ?? 0);

    private static string Memory(string scrape) =>
        $"GC heap after the last collection {PrometheusText.Sample(scrape, "dotnet_gc_last_collection_heap_size_bytes") / MiB:0.#} MiB, " +
        $"working set {PrometheusText.Sample(scrape, "dotnet_process_memory_working_set_bytes") / MiB:0.#} MiB, " +
        $"unverified bodies {PrometheusText.Sample(scrape, "citrigger_webhooks_unverified_bytes") / 1024:0.#} KiB";
}
