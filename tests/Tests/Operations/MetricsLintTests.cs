using System.Text.RegularExpressions;
using CiTrigger.Tests.EndToEnd;
using CiTrigger.Tests.Fakes;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.Operations;

/// <summary>The exposition format as Prometheus's own tool reads it.</summary>
public partial class MetricsLintTests
{
    /// <summary>
    /// promtool parses everything; the only lint findings allowed are those of metric names Orleans and
    /// the .NET runtime define upstream, as they are and listed here exactly.
    /// </summary>
    [Fact]
    public async Task The_metrics_exposition_passes_promtool_check_metrics_apart_from_upstream_metric_names()
    {
        await using var isolated = await IsolatedService.StartAsync();
        var repo = isolated.GitHub.Repo("octo/promtool");
        var after = repo.Commit("main", ".ci/workflow.yaml", SampleManifest.Workflow);
        using (var accepted = await isolated.Service.SendAsync("push", Payloads.Push(repo.FullName, "refs/heads/main", Payloads.Sha(1), after)))
        {
            Assert.True(accepted.IsSuccessStatusCode);
        }

        await isolated.WaitForAsync(repo.FullName, "refs/heads/main", s => IsolatedService.Finished(s) == 1, "the push applied");
        var scrape = await isolated.Service.Client.GetStringAsync("/metrics");

        await AssertPassesPromtoolAsync(scrape);

        Assert.NotNull(PrometheusText.Sample(scrape, "citrigger_events_processed_total", "outcome=\"applied\""));
        Assert.Contains("# HELP citrigger_events_processed_total ", scrape, StringComparison.Ordinal);
    }

    /// <summary>
    /// promtool parses <paramref name="scrape"/>, and finds nothing to lint but upstream metric names: for tests whose
    /// traffic records instruments this one's does not (such as <c>citrigger_runs_pruned_total</c>).
    /// </summary>
    internal static async Task AssertPassesPromtoolAsync(string scrape)
    {
        var (exitCode, output) = await PromtoolAsync(scrape);

        // 0: clean; 3: lint problems only; anything else (1: the text could not be parsed) fails here.
        Assert.True(exitCode is 0 or 3, $"promtool check metrics exited {exitCode}:\n{output}");
        var problems = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.All(problems, problem => Assert.Matches(UpstreamLint(), problem));
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

    /// <summary>
    /// The lint findings in Orleans' and the .NET runtime's own metric names, and nothing else. Orleans' messaging
    /// histograms carry camelCase labels, seen here when another test's in-process cluster (silos and a client) has
    /// exchanged messages meanwhile: Orleans' meters are static, so this service's scrape shows that traffic too.
    /// </summary>
    [GeneratedRegex("""^(orleans_[a-z_]+ (no help text|use base unit "(seconds|bytes)" instead of "(milliseconds|megabytes)"|label names should be written in 'snake_case' not 'camelCase')|dotnet_[a-z_]+_count non-histogram and non-summary metrics should not have "_count" suffix)$""")]
    private static partial Regex UpstreamLint();

    [GeneratedRegex(@"\}?\s([0-9.eE+-]+|NaN)(\s\d+)?$")]
    private static partial Regex SampleValue();
}
