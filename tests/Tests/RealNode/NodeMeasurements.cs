using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using CiTrigger.Tests.Support;
using Xunit;

namespace CiTrigger.Tests.RealNode;

/// <summary>
/// The figures docs/benchmarks.md reports for the real node, measured by the tests below and by the silo-loss
/// tests. Each measuring test also asserts a generous bound, so a regression by an order of magnitude fails.
/// </summary>
[Collection(OneNode.Name)]
public sealed class NodeMeasurements(NodeInstallation node)
{
    [Fact]
    public async Task A_trivial_job_completes_its_check_within_seconds_of_the_push_median_and_p95_of_20()
    {
        await node.WaitHealthyAsync(TimeSpan.FromMinutes(3));
        var repo = node.Repo("latency");
        var latencies = new List<double>();
        for (var i = 0; i < 20; i++)
        {
            var clock = Stopwatch.StartNew();
            var (delivery, status) = await node.PushAsync(repo, "main", JobRunTests.Job($"echo {i}"));
            Assert.Equal(202, status);
            var check = await node.CheckAsync(delivery, "completed", TimeSpan.FromMinutes(2));
            latencies.Add(clock.Elapsed.TotalSeconds);
            Assert.Equal("success", check.Conclusion);
        }

        latencies.Sort();
        var median = (latencies[9] + latencies[10]) / 2;
        var p95 = latencies[18];
        Measurements.Record("push -> check completed, trivial Job, 20 in a row", string.Create(CultureInfo.InvariantCulture,
            $"median {median:0.0} s, p95 {p95:0.0} s, min {latencies[0]:0.0} s, max {latencies[^1]:0.0} s"));
        Assert.True(p95 < 60, $"p95 {p95:0.0} s");
    }

    [Fact]
    public async Task Silo_pods_stay_far_below_their_memory_limit_at_rest_and_after_1000_events()
    {
        await node.WaitHealthyAsync(TimeSpan.FromMinutes(3));
        var atRest = await SiloMemoryAsync();
        Measurements.Record("silo pod memory at rest (working set)", Describe(atRest));

        var repo = node.Repo("memory");
        var sent = new System.Collections.Concurrent.ConcurrentBag<string>();
        await Parallel.ForEachAsync(Enumerable.Range(0, 20), new ParallelOptions { MaxDegreeOfParallelism = 10 }, async (r, _) =>
        {
            for (var n = 1; n <= 50; n++)
            {
                sent.Add(await node.PushAcknowledgedAsync(repo, $"m{r}", SiloLossTests.ConfigMap($"m{r}", n)));
            }
        });
        await node.WaitAppliedAsync(sent.ToList(), TimeSpan.FromMinutes(3));
        // The kubelet samples a container's memory every few seconds: the figure taken must be one sampled after the events.
        var applied = DateTime.UtcNow;
        var after = await Eventually.Until(async () => await SiloMemoryAsync(applied) is { Count: > 0 } m ? m : null, TimeSpan.FromMinutes(1),
            "the kubelet's memory figures sampled after the events were applied");
        Measurements.Record("silo pod memory after 1,000 more events (working set)", Describe(after));

        Assert.Equal(1000, sent.Count);
        Assert.All(after.Values, bytes => Assert.True(bytes < 400L << 20, $"{bytes >> 20} MiB of a 512 MiB limit"));
    }

    private static string Describe(IReadOnlyDictionary<string, long> memory) =>
        string.Join(", ", memory.OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => $"{m.Key} {m.Value / (1 << 20)} MiB"));

    /// <summary>Each silo container's working set as the kubelet reports it (its summary API, through the API server).</summary>
    /// <remarks>Empty unless every silo's figure was sampled after <paramref name="since"/>.</remarks>
    private async Task<IReadOnlyDictionary<string, long>> SiloMemoryAsync(DateTime? since = null)
    {
        var output = await node.Node.KubectlAsync("get", "--raw", $"/api/v1/nodes/{LocalNode.NodeName}/proxy/stats/summary");
        var summary = JsonNode.Parse(output)!;
        var silos = summary["pods"]!.AsArray()
            .Where(p => p!["podRef"]!["namespace"]!.GetValue<string>() == NodeInstallation.Namespace
                && p["podRef"]!["name"]!.GetValue<string>().StartsWith(NodeInstallation.Deployment + "-", StringComparison.Ordinal))
            .Select(p => (Pod: p!["podRef"]!["name"]!.GetValue<string>(), Memory: p["containers"]!.AsArray().Single(c => c!["name"]!.GetValue<string>() == "silo")!["memory"]!))
            .ToList();
        return since is { } after && silos.Any(s => s.Memory["time"]!.GetValue<DateTime>().ToUniversalTime() <= after)
            ? new Dictionary<string, long>()
            : silos.ToDictionary(s => s.Pod, s => s.Memory["workingSetBytes"]!.GetValue<long>());
    }
}

/// <summary>Collects the figures in <c>real-node-measurements.txt</c> beside the test assembly, and in the test's output.</summary>
public static class Measurements
{
    private static readonly Lock Gate = new();

    public static string File => Path.Combine(AppContext.BaseDirectory, "real-node-measurements.txt");

    public static void Record(string what, string figure)
    {
        var line = $"{DateTime.UtcNow:yyyy-MM-dd HH:mm:ss} UTC  {what}: {figure}";
        TestContext.Current.TestOutputHelper?.WriteLine(line);
        lock (Gate)
        {
            System.IO.File.AppendAllText(File, line + "\n");
        }
    }
}
