using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using CiTrigger.Tests.EndToEnd;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.Operations;

public partial class MetricsTests
{
    /// <summary>The sum of the samples of <paramref name="metric"/> whose labels include all of <paramref name="labels"/>; null if none.</summary>
    private static double? Sample(string scrape, string metric, params string[] labels) =>
        scrape.Split('\n')
            .Where(l => l.StartsWith(metric + "{", StringComparison.Ordinal) || l.StartsWith(metric + " ", StringComparison.Ordinal))
            .Where(l => labels.All(label => l.Contains(label, StringComparison.Ordinal)))
            .Select(l => double.Parse(SampleValue().Match(l).Groups[1].Value, CultureInfo.InvariantCulture))
            .Aggregate((double?)null, (sum, value) => (sum ?? 0) + value);

    [Fact]
    public async Task Metrics_count_webhooks_outcomes_and_latencies_after_known_traffic()
    {
        await using var env = await IsolatedService.StartAsync();
        var repo = env.GitHub.Repo("octo/metrics");
        var good = repo.Commit("main", ".ci/workflow.yaml", ServiceFixture.Manifest);
        var missing = repo.Commit("broken", "README.md", "no manifest");
        await env.Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/main", Payloads.Sha(1), good));
        await env.Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/broken", Payloads.Sha(1), missing));
        await env.Service.SendAsync("ping", Payloads.Example("ping").ToJsonString());
        using var unsigned = await env.Service.Client.SendAsync(TriggerHost.Webhook("push", Encoding.UTF8.GetBytes("{}"), "application/json", "d-x", secret: null));
        var states = new[]
        {
            await env.WaitForAsync(repo.FullName, "refs/heads/main", s => IsolatedService.Finished(s) == 1, "main"),
            await env.WaitForAsync(repo.FullName, "refs/heads/broken", s => IsolatedService.Finished(s) == 1, "broken"),
        };
        var attempts = states.Sum(s => s["history"]![0]!["attempts"]!.AsArray().Count);

        var scrape = await env.Service.Client.GetStringAsync("/metrics");

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
    }

    [GeneratedRegex(@"\}?\s([0-9.eE+-]+|NaN)(\s\d+)?$")]
    private static partial Regex SampleValue();
}
