using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.EndToEnd;

/// <summary>What an operator can find out about an event without reading the cluster or the logs.</summary>
public class OperatorViewTests
{
    [Fact]
    public async Task The_exact_manifest_sent_for_a_delivery_can_be_read_back_with_what_policy_filled_in()
    {
        await using var env = await IsolatedService.StartAsync();
        var repo = env.GitHub.Repo("octo/manifest-view");
        var after = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        var delivery = Guid.NewGuid().ToString();

        await env.Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/main", Payloads.ZeroSha, after), delivery);
        await env.WaitForAsync(repo.FullName, "refs/heads/main", s => IsolatedService.Finished(s) == 1, "the push applied");
        var kept = await Eventually.Until(async () =>
        {
            using var response = await env.Service.Client.GetAsync($"/admin/deliveries/{delivery}/manifest");
            return response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadFromJsonAsync<JsonObject>() : null;
        }, TimeSpan.FromSeconds(10), "the kept manifest");

        var sent = Assert.Single(env.Kubernetes.Applied);
        var document = JsonNode.Parse(kept["manifest"]!.GetValue<string>().Split("---\n", StringSplitOptions.RemoveEmptyEntries).Single())!;
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(sent.Body), document), "the kept manifest is the one the API server received");
        Assert.Equal("ci", document["metadata"]!["namespace"]!.GetValue<string>());
        using var unknown = await env.Service.Client.GetAsync($"/admin/deliveries/{Guid.NewGuid()}/manifest");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        using var invalid = await env.Service.Client.GetAsync("/admin/deliveries/no%20such/manifest");
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
    }

    [Fact]
    public async Task In_dry_run_the_manifest_that_would_be_applied_is_kept_and_a_huge_one_is_cut()
    {
        await using var env = await IsolatedService.StartAsync(dryRun: true);
        var repo = env.GitHub.Repo("octo/manifest-cut");
        var huge = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: huge\ndata:\n  blob: \"" + new string('x', 400_000) + "\"\n";
        var after = repo.Commit("main", ".ci/workflow.yaml", huge);
        var delivery = Guid.NewGuid().ToString();

        await env.Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/main", Payloads.ZeroSha, after), delivery);
        await env.WaitForAsync(repo.FullName, "refs/heads/main", s => IsolatedService.Finished(s) == 1, "the dry run");
        var manifest = await Eventually.Until(async () =>
        {
            using var response = await env.Service.Client.GetAsync($"/admin/deliveries/{delivery}/manifest");
            return response.StatusCode == HttpStatusCode.OK ? (await response.Content.ReadFromJsonAsync<JsonObject>())!["manifest"]!.GetValue<string>() : null;
        }, TimeSpan.FromSeconds(10), "the kept manifest");

        Assert.StartsWith("---\n{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\"", manifest, StringComparison.Ordinal);
        Assert.InRange(manifest.Length, 256 * 1024, (256 * 1024) + 100);
        Assert.Contains("# … cut at 262144 of about", manifest, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_ref_whose_cluster_is_failing_lists_as_retrying_with_the_error_and_its_next_attempt_time()
    {
        await using var env = await IsolatedService.StartAsync(new Dictionary<string, string>
        {
            ["Handler:RetryBaseDelay"] = "00:01:00",
            ["Handler:RetryMaxDelay"] = "00:10:00",
        });
        env.Kubernetes.FailureRate = 1.0;
        var repo = env.GitHub.Repo("octo/next-attempt");
        var after = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);

        await env.Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/main", Payloads.ZeroSha, after));
        var summary = await Eventually.Until(async () =>
        {
            var page = await env.Service.Client.GetFromJsonAsync<JsonObject>($"/admin/refs?repo={repo.FullName}");
            return page!["refs"]!.AsArray().SingleOrDefault(r => r!["state"]!.GetValue<string>() == "retrying")?.AsObject();
        }, TimeSpan.FromSeconds(20), "the ref listed as retrying");

        Assert.Contains("the API server answered 5", summary["lastError"]!.GetValue<string>(), StringComparison.Ordinal);
        var next = summary["nextAttemptAt"]!.GetValue<DateTimeOffset>();
        var updated = summary["updatedAt"]!.GetValue<DateTimeOffset>();
        Assert.InRange(next - updated, TimeSpan.FromSeconds(20), TimeSpan.FromMinutes(1));
    }
}
