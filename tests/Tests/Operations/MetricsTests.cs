using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CiTrigger.Tests.EndToEnd;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Processes;
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

    /// <summary>
    /// A process of its own: meters are process-wide, and other tests' in-process services would add to the counts.
    /// </summary>
    [Fact]
    public async Task Metrics_count_webhooks_outcomes_and_latencies_after_known_traffic()
    {
        await using var github = await FakeGitHubApi.StartAsync();
        await using var kubernetes = await FakeKubernetesApi.StartAsync();
        var directory = Directory.CreateTempSubdirectory("citrigger-metrics-").FullName;
        await using var silo = await SiloProcess.StartAsync(new Dictionary<string, string>
        {
            ["Webhook:Secrets"] = TriggerHost.Secret,
            ["GitHub:BaseUrl"] = github.BaseAddress.ToString(),
            ["Kubernetes:KubeConfig"] = kubernetes.WriteKubeConfig(directory),
            ["Orleans:DataPath"] = directory,
            ["Orleans:SiloPort"] = FreePorts.Next().ToString(CultureInfo.InvariantCulture),
            ["Orleans:GatewayPort"] = FreePorts.Next().ToString(CultureInfo.InvariantCulture),
        });
        var repo = github.Repo("octo/metrics");
        var good = repo.Commit("main", ".ci/workflow.yaml", ServiceFixture.Manifest);
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

        var scrape = await silo.Client.GetStringAsync("/metrics");

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

    /// <summary>
    /// The exposition is read by Prometheus itself, not only by this test's parser: promtool (from Debian's
    /// prometheus package; test.sh provides it) must parse all of it, and its lint must find nothing in
    /// the service's own metrics or ASP.NET Core's. What it does find is in names Orleans and the .NET
    /// runtime instrumentation define (no HELP, milliseconds and megabytes instead of base units, a
    /// "_count" gauge); renaming those would break every dashboard built on them, so they are left as
    /// they are and listed here exactly.
    /// </summary>
    [Fact]
    public async Task The_metrics_exposition_passes_promtool_check_metrics_apart_from_upstream_metric_names()
    {
        await using var isolated = await IsolatedService.StartAsync();
        var repo = isolated.GitHub.Repo("octo/promtool");
        var after = repo.Commit("main", ".ci/workflow.yaml", ServiceFixture.Manifest);
        using (var accepted = await isolated.Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/main", Payloads.Sha(1), after)))
        {
            Assert.True(accepted.IsSuccessStatusCode);
        }

        await isolated.WaitForAsync(repo.FullName, "refs/heads/main", s => IsolatedService.Finished(s) == 1, "the push applied");
        var scrape = await isolated.Service.Client.GetStringAsync("/metrics");

        var (exitCode, output) = await PromtoolAsync(scrape);

        // 0: clean; 3: lint problems only; anything else (1: the text could not be parsed) fails here.
        Assert.True(exitCode is 0 or 3, $"promtool check metrics exited {exitCode}:\n{output}");
        var problems = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.All(problems, problem => Assert.Matches(UpstreamLint(), problem));
        Assert.NotNull(Sample(scrape, "citrigger_events_processed_total", "outcome=\"applied\""));
        Assert.Contains("# HELP citrigger_events_processed_total ", scrape, StringComparison.Ordinal);
    }

    private static async Task<(int ExitCode, string Output)> PromtoolAsync(string exposition)
    {
        var promtool = Environment.GetEnvironmentVariable("CITRIGGER_PROMTOOL") is { Length: > 0 } configured ? configured : "promtool";
        var start = new System.Diagnostics.ProcessStartInfo(promtool, ["check", "metrics"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        System.Diagnostics.Process process;
        try
        {
            process = System.Diagnostics.Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"promtool not found ({promtool}): ./test.sh extracts it from Debian's prometheus package", e);
        }

        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            await process.StandardInput.WriteAsync(exposition);
            process.StandardInput.Close();
            await process.WaitForExitAsync();
            return (process.ExitCode, await output + await error);
        }
    }

    /// <summary>The lint findings in Orleans' and the .NET runtime's own metric names, and nothing else.</summary>
    [GeneratedRegex("""^(orleans_[a-z_]+ (no help text|use base unit "(seconds|bytes)" instead of "(milliseconds|megabytes)")|dotnet_[a-z_]+_count non-histogram and non-summary metrics should not have "_count" suffix)$""")]
    private static partial Regex UpstreamLint();

    [GeneratedRegex(@"\}?\s([0-9.eE+-]+|NaN)(\s\d+)?$")]
    private static partial Regex SampleValue();
}
